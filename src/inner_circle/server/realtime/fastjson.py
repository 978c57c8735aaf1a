"""orjson behind the ``json`` module interface python-socketio and python-engineio expect.

Every fan-out encodes the event once, but the stdlib encoder is still one of the
largest costs per message (docs/performance.md); orjson is several times faster
and already a server dependency.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps", "loads"]

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(obj: Any, **_: Any) -> str:
    """``json.dumps`` without spaces; keyword arguments (``separators``) are ignored."""
    return orjson.dumps(obj, option=_OPTIONS).decode()


def loads(data: str | bytes, **_: Any) -> Any:
    return orjson.loads(data)
