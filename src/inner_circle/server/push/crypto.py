"""Payload encryption for Web Push: RFC 8291 with the aes128gcm content coding (RFC 8188)."""

from __future__ import annotations

import os

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec

from inner_circle.server.push.vapid import b64url_decode

__all__ = ["encrypt_payload", "valid_keys"]


def valid_keys(p256dh: str, auth: str) -> bool:
    """True for a P-256 public key (65 bytes, uncompressed) and a 16-byte auth secret."""
    try:
        public = b64url_decode(p256dh)
        secret = b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    except (ValueError, TypeError):
        return False
    return len(public) == 65 and len(secret) == 16


def encrypt_payload(payload: bytes, p256dh: str, auth: str) -> bytes:
    """Encrypt for one subscription: a fresh ephemeral key and salt every time.
    CPU work (an ECDH and a few HKDFs): run it off the event loop."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    return bytes(
        http_ece.encrypt(
            payload,
            salt=os.urandom(16),
            private_key=ephemeral,
            dh=b64url_decode(p256dh),
            auth_secret=b64url_decode(auth),
            version="aes128gcm",
        )
    )
