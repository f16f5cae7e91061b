"""Where and as whom the operator works: the one resolver of profile, endpoint and key.

As kubectl's contexts do, a `Context` says which profile is in use, which
endpoint and region its requests go to, in which language the service answers,
how long a call may take, which BizId the forms start with, whether string
OpenIDs are accepted, where the history lives and where the credentials come
from. The command line builds one from its flags; the console is handed one,
and a profile switch there calls the same `resolve` with the same flags, so the
two can never work it out differently.

Headless and cheap: no argparse, no Textual, no keyring call (a keyring lookup
may wait on an unlock prompt, so each front end makes it where it can wait).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from .options import (
    DEFAULT_ENDPOINT,
    ENDPOINT,
    TIMEOUT,
    given,
    parse_endpoint,
    parse_folder,
    parse_region,
    parse_timeout,
)
from .paths import DATA_DIR_ENV, DEMO_FOLDER, data_dir
from .settings import DEFAULT_PROFILE, Settings

if TYPE_CHECKING:
    from .api.client import GmeClient, SyncGmeClient
    from .api.signing import SigningKey

PROFILE_ENV = "GME_TUI_PROFILE"
REGION_ENV = "TENCENTCLOUD_REGION"
DEFAULT_TIMEOUT = "10"
DEMO_PROFILE = "demo"
#: the endpoint the demo's rows and recordings are filed under: its emulator takes a new
#: port each run, but keeps its tasks in the demo folder, so every run is the same service
DEMO_SCOPE = "demo"
DEMO_SOURCE = "demo credentials"
ENVIRONMENT_SOURCE = "environment"


@dataclass(frozen=True)
class Flags:
    """What the command line said; None (or False) where it said nothing."""

    profile: str | None = None
    endpoint: str | None = None
    region: str | None = None
    language: str | None = None
    data_dir: str | None = None
    timeout: str | None = None
    biz_id: str | None = None
    relaxed_ids: bool = False
    demo: bool = False


@dataclass(frozen=True)
class Context:
    """Every value resolved; `fixed` names those a profile switch must keep."""

    profile: str = DEFAULT_PROFILE
    endpoint: str = DEFAULT_ENDPOINT
    data_dir: Path = Path(".")
    key: SigningKey | None = None
    #: why there is no key, when the lookup failed
    key_problem: str | None = None
    region: str | None = None
    language: str | None = None
    timeout: float = float(DEFAULT_TIMEOUT)
    demo: bool = False
    default_biz_id: str = ""
    relaxed_ids: bool = False
    #: the settings file to read and write; None: `paths.settings_path()`
    settings_path: Path | None = None
    use_env_proxies: bool = True
    #: where the key came from: "environment", "keyring (profile NAME)", "demo credentials"
    key_source: str | None = None
    #: the key is still to be looked up in the keyring (off the console's UI thread)
    from_keyring: bool = False
    #: what the command line fixed (and in the demo: the endpoint, credentials and BizId)
    fixed: tuple[str, ...] = ()
    #: the whole settings file as read (None: not read yet; the console then reads it)
    all_settings: Settings | None = None
    flags: Flags = field(default_factory=Flags)

    @property
    def settings(self) -> Settings:
        """The settings as this profile sees them."""
        return (self.all_settings or Settings()).for_profile(self.profile)

    @property
    def scope(self) -> str:
        """The endpoint as the history and the recordings name it (`DEMO_SCOPE` in the demo)."""
        return DEMO_SCOPE if self.demo else self.endpoint

    @property
    def destination(self) -> str:
        """Where a request of this context goes, as every confirmation says it: the profile,
        the endpoint's host (and port), and whether that is the real service or a local one."""
        return destination(self.endpoint, self.profile, demo=self.demo)

    def with_credentials(
        self, key: SigningKey | None, source: str | None, problem: str | None = None
    ) -> Context:
        """The key once looked up (or why there is none)."""
        return dataclasses.replace(self, key=key, key_source=source, key_problem=problem, from_keyring=False)

    def for_profile(self, name: str, environ: Mapping[str, str] | None = None) -> Context:
        """Another profile, resolved from the same flags, environment and settings file.

        What no profile can change (the history's folder, the timeout, proxies) is kept
        as it is, so a context built by hand (tests, benchmarks) keeps it too.
        """
        new = resolve(
            dataclasses.replace(self.flags, profile=name),
            self.all_settings or Settings(),
            environ,
            settings_path=self.settings_path,
        )
        return dataclasses.replace(
            new, data_dir=self.data_dir, timeout=self.timeout, use_env_proxies=self.use_env_proxies
        )

    def pinned_to(self, endpoint: str, environ: Mapping[str, str] | None = None) -> Context:
        """The same context aimed at `endpoint`, fixed as if the command line gave it (the demo's
        emulator, whose port is known only once taken)."""
        return resolve(
            dataclasses.replace(self.flags, endpoint=endpoint),
            self.all_settings or Settings(),
            environ,
            settings_path=self.settings_path,
            profile=self.profile,
        )


def is_local(endpoint: str) -> bool:
    """Is this endpoint on this machine (an emulator), not a service out there?"""
    from urllib.parse import urlsplit

    host = (urlsplit(endpoint).hostname or "").lower()
    return host == "localhost" or host.endswith(".localhost") or host.startswith("127.") or host == "::1"


def endpoint_host(endpoint: str) -> str:
    """An endpoint as the console names it: its host and port (`127.0.0.1:8080`), never a
    user or password a URL may carry; the name as it is where it is no URL (`demo`)."""
    from urllib.parse import urlsplit

    try:
        netloc = urlsplit(endpoint).netloc
    except ValueError:
        netloc = ""
    return netloc.rpartition("@")[2] or endpoint


def destination(endpoint: str, profile: str, *, demo: bool = False) -> str:
    """`profile ops → gme.tencentcloudapi.com · REAL SERVICE (Tencent Cloud)`, or a local
    emulator said as such: the words a confirmation names where it acts with."""
    from urllib.parse import urlsplit

    from .safe_text import clean

    parts = urlsplit(endpoint)
    host = endpoint_host(endpoint)
    if demo:
        kind = "DEMO · local emulator, nothing reaches Tencent Cloud"
    elif is_local(endpoint):
        kind = "local endpoint on this machine (an emulator, not Tencent Cloud)"
    elif (parts.hostname or "").endswith(".tencentcloudapi.com"):
        kind = "REAL SERVICE · Tencent Cloud"
    else:
        kind = "REMOTE endpoint · not Tencent Cloud's own address"
    return clean(f"profile {profile} → {host} · {kind}", one_line=True)


def resolve(
    flags: Flags,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    *,
    settings_path: Path | None = None,
    profile: str | None = None,
) -> Context:
    """Flags over environment over the profile's settings over the defaults.

    Raises `FieldError` for a flag that breaks its rule. The key is taken from
    the environment when it holds one (or the demo's); otherwise `from_keyring`
    says it is still to be looked up.
    """
    env = os.environ if environ is None else environ
    # A flag given empty is an error (a script's unset variable must not mean the default,
    # which is the real service); an empty environment variable counts as unset, as the
    # shells' `VAR= command` idiom expects.
    flag_profile = given(flags.profile, "--profile")
    named = flag_profile or env.get(PROFILE_ENV) or None
    if named:
        from .credentials import check_profile

        check_profile(named, "--profile" if flag_profile else PROFILE_ENV)
    endpoint = given(flags.endpoint, ENDPOINT)
    biz_flag = given(flags.biz_id, "--biz-id")
    folder_flag = given(flags.data_dir, "--data-dir")
    timeout = given(flags.timeout, TIMEOUT)
    region_flag = given(flags.region, "--region")
    region_env = env.get(REGION_ENV) or None
    if region_flag is not None:
        region: str | None = parse_region(region_flag, "--region")
    elif region_env is not None:
        region = parse_region(region_env, REGION_ENV)
    else:
        region = None
    if profile is None:
        profile = DEMO_PROFILE if flags.demo and not named else named or settings.profile or DEFAULT_PROFILE
    seen = settings.for_profile(profile)
    fixed = [
        name
        for name, value in (
            ("endpoint", endpoint),
            ("region", region_flag),
            ("language", flags.language),
            ("biz_id", biz_flag),
        )
        if value
    ]
    key: SigningKey | None = None
    source: str | None = None
    if flags.demo:  # nothing a profile says may point the demo at the cloud
        from .demo import DEMO_BIZ_ID, DEMO_KEY

        fixed += ["endpoint", "credentials", "biz_id"]
        key, source = DEMO_KEY, DEMO_SOURCE
        biz = biz_flag or str(DEMO_BIZ_ID)
    else:  # the demo needs no credentials module: its key is the demo's
        from .credentials import CredentialsMissing, from_environment

        biz = biz_flag or seen.biz_id_text
        try:
            key, source = from_environment(env), ENVIRONMENT_SOURCE
        except CredentialsMissing:
            pass
    env_folder = env.get(DATA_DIR_ENV) or None
    if folder_flag is not None:
        parse_folder(folder_flag, "--data-dir")
    elif env_folder is not None:
        parse_folder(env_folder, DATA_DIR_ENV)
    folder = data_dir(folder_flag, env)
    return Context(
        profile=profile,
        endpoint=parse_endpoint(endpoint)
        if endpoint is not None
        else parse_endpoint(seen.endpoint or DEFAULT_ENDPOINT),
        data_dir=folder / DEMO_FOLDER if flags.demo else folder,
        key=key,
        key_source=source,
        from_keyring=key is None,
        region=region or seen.region,
        language=flags.language or seen.language,
        timeout=parse_timeout(timeout) if timeout is not None else float(DEFAULT_TIMEOUT),
        demo=flags.demo,
        default_biz_id=biz,
        relaxed_ids=flags.relaxed_ids or seen.relaxed_user_ids,
        settings_path=settings_path,
        use_env_proxies=not flags.demo,  # the demo's emulator is on loopback: no proxy between
        fixed=tuple(dict.fromkeys(fixed)),
        all_settings=settings,
        flags=flags,
    )


def aimed_command(ctx: Context) -> str:
    """`gme-tui` with the global options that send a command where this context's went
    (shell-quoted): each whose value is not what a bare `gme-tui` (no flags, environment or
    settings file) would use, whichever of those chose it. The demo's endpoint is its own
    emulator's, gone with this process, so the hint says `--demo` instead: a later demo
    command starts an emulator of its own on the same state file (beside the demo history),
    so it finds the tasks this one started."""
    import shlex

    words = ["gme-tui"]
    if ctx.demo:
        words.append("--demo")
    if ctx.flags.profile or ctx.profile != (DEMO_PROFILE if ctx.demo else DEFAULT_PROFILE):
        words += ["--profile", ctx.profile]
    if not ctx.demo and ctx.endpoint != DEFAULT_ENDPOINT:
        words += ["--endpoint", ctx.endpoint]
    if ctx.region:
        words += ["--region", ctx.region]
    folder = ctx.data_dir.parent if ctx.demo else ctx.data_dir  # the demo's is `demo/` below it
    if folder != data_dir(None, {}):
        words += ["--data-dir", str(folder)]
    return shlex.join(words)


@overload
def make_client(ctx: Context, key: SigningKey, *, blocking: Literal[False] = False) -> GmeClient: ...
@overload
def make_client(ctx: Context, key: SigningKey, *, blocking: Literal[True]) -> SyncGmeClient: ...


def make_client(ctx: Context, key: SigningKey, *, blocking: bool = False) -> GmeClient | SyncGmeClient:
    """The client for this context's endpoint, region, language and timeout: async for the
    console and batches, `blocking` for a one-shot command (no event loop to start). Its
    rate limit counts the sends of every process sharing the data folder (`send_slots`)."""
    from .api.client import GmeClient, SyncGmeClient
    from .send_slots import for_folder

    driver = SyncGmeClient if blocking else GmeClient
    return driver(
        key,
        endpoint=ctx.endpoint,
        region=ctx.region,
        language=ctx.language,
        timeout=ctx.timeout,
        use_env_proxies=ctx.use_env_proxies,
        limiter=for_folder(ctx.data_dir),
        scope=ctx.scope,
    )
