"""`gme-tui credentials ...`: the keyring, from the command line.

No option ever takes a secret (it would land in the shell's history and the
process list): the SecretKey and the token come from a hidden prompt, or from
standard input when that is not a terminal.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from ..api.signing import SigningKey
from ..context import Context
from ..credentials import (
    SECRET_ID_ENV,
    SECRET_KEY_ENV,
    CredentialsMissing,
    KeyringStore,
    KeyringUnavailable,
    check_profile,
    from_environment,
    keyring_source,
    mask,
    read_tccli,
)
from .exits import CannotRun

#: more than a SecretKey and a session token can hold, so a longer one is refused by their rule
STDIN_MAX = 64 * 1024


def run(args: argparse.Namespace, ctx: Context) -> int:
    profile = check_profile(getattr(args, "creds_profile", None) or ctx.profile)
    store = KeyringStore()
    try:
        if args.creds_command == "set":
            return _set(store, profile, args.secret_id, args.session_token)
        if args.creds_command == "show":
            return _show(store, profile)
        if args.creds_command == "delete":
            removed = store.delete(profile)
            print(
                f"Deleted the credentials of profile {profile}."
                if removed
                else f"Profile {profile} had no credentials in the keyring."
            )
            return 0
        if args.creds_command == "list":
            names = store.list_profiles()
            print("\n".join(names) if names else "No profile has credentials in the keyring.")
            return 0
        if args.creds_command == "import-tccli":
            key = read_tccli(args.tccli_profile)
            store.set(profile, key)
            print(
                f"Imported tccli profile {args.tccli_profile} into profile {profile} "
                f"(SecretId {key.secret_id}, SecretKey {mask(key.secret_key)})."
            )
            return 0
    except (KeyringUnavailable, CredentialsMissing) as error:
        raise CannotRun(str(error)) from None
    raise AssertionError(args.creds_command)


def _read_secret(prompt: str, lines: list[str] | None) -> str:
    """A hidden prompt on a terminal; otherwise the next line of standard input."""
    if lines is None:
        return getpass.getpass(prompt).strip()
    return lines.pop(0).strip() if lines else ""


def _set(store: KeyringStore, profile: str, secret_id: str, with_token: bool) -> int:
    try:
        # Bounded: a key and a token are a few KiB at most, and stdin may be endless (/dev/zero).
        lines = None if sys.stdin.isatty() else sys.stdin.read(STDIN_MAX).splitlines()
        secret_key = _read_secret("SecretKey (hidden): ", lines)
        token = _read_secret("Session token (hidden): ", lines) if with_token else ""
    except (OSError, EOFError, ValueError) as error:  # closed, ended at the prompt, not UTF-8
        from ..safe_text import failure_text

        raise CannotRun(f"cannot read the SecretKey from standard input ({failure_text(error)})") from None
    store.set(profile, SigningKey(secret_id.strip(), secret_key, token or None))
    print(
        f"Stored the credentials of profile {profile} in the keyring ({store.backend_name()}): "
        f"SecretId {secret_id.strip()}, SecretKey {mask(secret_key)}."
    )
    return 0


def _show(store: KeyringStore, profile: str) -> int:
    try:
        env_key: SigningKey | None = from_environment()
    except CredentialsMissing:
        env_key = None
    stored = store.get(profile)
    key = env_key or stored
    if key is None:
        print(
            f"Profile {profile} has no credentials: neither {SECRET_ID_ENV}/{SECRET_KEY_ENV} in the "
            f"environment nor a keyring entry (gme-tui credentials set --profile {profile} --secret-id ID)."
        )
        return 1
    source = "environment" if env_key is not None else keyring_source(profile)
    print(f"Profile    {profile}")
    print(f"Source     {source}")
    print(f"SecretId   {key.secret_id}")
    print(f"SecretKey  {mask(key.secret_key)}")
    print(f"Token      {mask(key.token) if key.token else '(none)'}")
    if env_key is not None and stored is not None:
        print(f"Note       the environment shadows the keyring entry of profile {profile}")
    return 0
