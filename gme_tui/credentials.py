"""Where the signing key comes from.

For now the environment only, as the Tencent Cloud tools read it; the keyring
joins in the profiles issue. Nothing here ever writes a secret anywhere.
"""

from __future__ import annotations

import os

from .api.signing import SigningKey

SECRET_ID_ENV = "TENCENTCLOUD_SECRET_ID"
SECRET_KEY_ENV = "TENCENTCLOUD_SECRET_KEY"
TOKEN_ENV = "TENCENTCLOUD_SESSION_TOKEN"


class CredentialsMissing(Exception):
    """No usable credentials: the message says which variable is missing."""


def from_environment(environ: dict[str, str] | None = None) -> SigningKey:
    env = os.environ if environ is None else environ
    secret_id = env.get(SECRET_ID_ENV, "").strip()
    secret_key = env.get(SECRET_KEY_ENV, "").strip()
    missing = [name for name, value in ((SECRET_ID_ENV, secret_id), (SECRET_KEY_ENV, secret_key)) if not value]
    if missing:
        raise CredentialsMissing(
            f"no credentials: set {' and '.join(missing)} in the environment "
            "(or try the local emulator with --demo)"
        )
    return SigningKey(secret_id, secret_key, env.get(TOKEN_ENV, "").strip() or None)
