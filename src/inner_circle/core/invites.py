"""Invitation codes: how they look and when one may be redeemed."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Literal

__all__ = ["generate_code", "invite_status"]

# No 0/O/1/I/L: codes are read aloud and typed on phones.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 3
GROUP_LENGTH = 4


def generate_code() -> str:
    """A code like ``K7QM-2XHP-WN4R``: 60 bits of randomness, easy to type."""
    groups = (
        "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def normalise_code(code: str) -> str:
    """Codes are matched case-insensitively and with or without the dashes a person types."""
    cleaned = code.strip().upper().replace(" ", "")
    if (
        "-" not in cleaned
        and len(cleaned) == CODE_GROUPS * GROUP_LENGTH
        and all(ch in ALPHABET for ch in cleaned)
    ):
        return "-".join(cleaned[i : i + GROUP_LENGTH] for i in range(0, len(cleaned), GROUP_LENGTH))
    return cleaned


def invite_status(
    *,
    used_count: int,
    usage_limit: int,
    expires_at: datetime | None,
    revoked_at: datetime | None,
    now: datetime,
) -> Literal["active", "used", "expired", "revoked"]:
    if revoked_at is not None:
        return "revoked"
    if used_count >= usage_limit:
        return "used"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"
