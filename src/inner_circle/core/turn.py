"""TURN REST API credentials: what coturn's ``use-auth-secret`` checks.

The server and coturn share a secret; a credential is valid until the expiry written
in its username, and coturn recomputes the password from the username alone, so no
password is stored anywhere and a leaked one expires on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["turn_credential"]


def turn_credential(secret: str, user_id: str, expires_at: int) -> tuple[str, str]:
    """(username, credential): ``"<expiry>:<user id>"`` and base64(HMAC-SHA1(secret, username))."""
    username = f"{expires_at}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")
