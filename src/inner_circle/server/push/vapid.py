"""VAPID (RFC 8292): the server's P-256 key pair and the JWT that signs each push."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from inner_circle.server.db.files import private_file

__all__ = ["VapidKey", "b64url", "b64url_decode"]

KEY_FILE = "vapid-private-key"
JWT_LIFETIME = 12 * 3600  # RFC 8292: at most 24 hours
JWT_REUSE = 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VapidKey:
    """The application server key: signs VAPID JWTs; its public half goes to browsers."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, subject: str) -> None:
        self._key = private_key
        self.subject = subject
        raw = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        self.public_key = b64url(raw)  # the browser's applicationServerKey
        self._tokens: dict[str, tuple[str, float]] = {}

    @classmethod
    def from_raw(cls, private_b64url: str, subject: str) -> VapidKey:
        value = int.from_bytes(b64url_decode(private_b64url.strip()), "big")
        return cls(ec.derive_private_key(value, ec.SECP256R1()), subject)

    @classmethod
    def load_or_create(cls, data_dir: Path, subject: str) -> VapidKey:
        """The key kept in the data folder (0600), made at first start; a key file left
        readable by others is made private."""
        path = data_dir / KEY_FILE
        if path.exists():
            private_file(path)
            return cls.from_raw(path.read_text(), subject)
        key = ec.generate_private_key(ec.SECP256R1())
        raw = key.private_numbers().private_value.to_bytes(32, "big")
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return cls.from_raw(path.read_text(), subject)
        with os.fdopen(fd, "w") as handle:
            handle.write(b64url(raw))
        return cls(key, subject)

    def authorization(self, audience: str) -> str:
        """The ``Authorization`` header value for a push service at ``audience`` (its origin)."""
        now = time.time()
        cached = self._tokens.get(audience)
        if cached is None or now - cached[1] > JWT_REUSE:
            claims = {"aud": audience, "exp": int(now) + JWT_LIFETIME, "sub": self.subject}
            token = jwt.encode(claims, self._key, algorithm="ES256", headers={"typ": "JWT"})
            cached = (token, now)
            if len(self._tokens) > 256:
                self._tokens.clear()
            self._tokens[audience] = cached
        return f"vapid t={cached[0]}, k={self.public_key}"
