"""The acknowledgement envelope: ``{ok: true, ...}`` or ``{ok: false, error: {code, message}}``."""

from __future__ import annotations

from typing import Any

from inner_circle.core.errors import InnerCircleError

__all__ = ["failure", "success"]


def success(**fields: Any) -> dict[str, Any]:
    return {"ok": True, **fields}


def failure(error: InnerCircleError) -> dict[str, Any]:
    return {"ok": False, "error": error.to_dict()}
