"""Known devices: a signed cookie saying "this browser or app signed in as this member before".

A username lock is raised by wrong passwords from anywhere, so on its own it lets
anyone keep a chosen member out. After each successful sign-in the server sets one
cookie per member on that client:

* named ``ic_device_<16 hex>`` (a keyed hash of the username, so the name reveals
  nothing and a family tablet can be known for several members);
* holding a random device id, an expiry and an HMAC-SHA256 over the casefolded
  username, the id and the expiry, with a key derived from the server's secret;
* ``HttpOnly``, ``SameSite=Strict``, ``Secure`` on HTTPS, ``Path=/`` (a password
  change presents it too), valid for ``limit_known_device_days``.

The server keeps no state for it. A forged, altered, expired or other member's
marker simply does not count. Changing the server secret forgets every device.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from inner_circle.core import usernames

__all__ = ["DeviceMarks", "username_key"]

COOKIE_PREFIX = "ic_device_"


def username_key(username: str) -> str:
    """The form of a username every limit keys on: the folded form sign-in matches by
    (``Anna``, ``ANNA`` and a full-width ``Ａｎｎａ`` share one count)."""
    return usernames.fold(username)


class DeviceMarks:
    """Issues and checks the known-device cookie (no server state)."""

    def __init__(self, secret: str, lifetime_seconds: float) -> None:
        self._key = hmac.new(
            secret.encode(), b"inner-circle/known-device/v1", hashlib.sha256
        ).digest()
        self.lifetime = lifetime_seconds

    @property
    def enabled(self) -> bool:
        return self.lifetime > 0

    def cookie_name(self, username: str) -> str:
        digest = hmac.new(self._key, b"name|" + username_key(username).encode(), hashlib.sha256)
        return COOKIE_PREFIX + digest.hexdigest()[:16]

    def _sign(self, username: str, device_id: str, expires: int) -> str:
        message = f"{username_key(username)}|{device_id}|{expires}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, username: str, now: float, device_id: str | None = None) -> tuple[str, str]:
        """(cookie name, value) for ``username``; keeps ``device_id`` when renewing a marker."""
        device_id = device_id or secrets.token_urlsafe(12)
        expires = int(now + self.lifetime)
        value = f"{device_id}.{expires}.{self._sign(username, device_id, expires)}"
        return self.cookie_name(username), value

    def verify(self, username: str, cookies: Mapping[str, str], now: float) -> str | None:
        """The device id when ``cookies`` hold a valid, unexpired marker for ``username``."""
        if not self.enabled:
            return None
        value = cookies.get(self.cookie_name(username))
        if not value:
            return None
        parts = value.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        device_id, expires_text, signature = parts
        expires = int(expires_text)
        if expires <= now:
            return None
        expected = self._sign(username, device_id, expires)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return None
        return device_id
