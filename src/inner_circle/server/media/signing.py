"""Signed download URLs: an HMAC over (attachment, variant, expiry) is the grant.

``<img>`` and ``<video>`` cannot send an Authorization header, so downloads carry their
permission in the URL. Such URLs are only handed to members who can see the message, and
live a few minutes. Expiries are rounded up to half the lifetime so one file keeps one URL
for a while and the browser cache works across reloads.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import uuid

__all__ = ["UrlSigner"]


class UrlSigner:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = hashlib.sha256(b"inner-circle media url\0" + secret.encode()).digest()
        self.ttl = ttl_seconds

    def expiry(self, now: float) -> int:
        step = max(1, self.ttl // 2)
        return math.ceil((now + self.ttl) / step) * step

    def signature(self, attachment_id: uuid.UUID, variant: str, expires: int) -> str:
        message = f"{attachment_id}:{variant}:{expires}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def path(self, attachment_id: uuid.UUID, variant: str, now: float) -> str:
        expires = self.expiry(now)
        signature = self.signature(attachment_id, variant, expires)
        return f"/media/{attachment_id}/{variant}?e={expires}&s={signature}"

    def valid(self, attachment_id: uuid.UUID, variant: str, expires: int, signature: str) -> bool:
        expected = self.signature(attachment_id, variant, expires)
        # Bytes: compare_digest refuses str with non-ASCII characters (a forged query).
        return hmac.compare_digest(expected.encode(), signature.encode())
