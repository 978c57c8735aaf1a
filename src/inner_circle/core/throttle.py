"""Warnings that an overloaded server would repeat many times a second, one line a second."""

from __future__ import annotations

__all__ = ["ReportThrottle"]


class ReportThrottle:
    """At most one report per ``every`` seconds; the ones in between are held back, and the
    next line says how many there were and the longest of them."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self._last = -every
        self._held: list[float] = []

    def admit(self, ms: float, now: float) -> str | None:
        """None: count this report (``ms`` long) and write nothing; else write the line now,
        ending it with the returned text ("" when nothing was held back)."""
        if now - self._last < self.every:
            self._held.append(ms)
            return None
        more = ""
        if self._held:
            more = f" (and {len(self._held)} more since the last report, "
            more += f"the longest {max(self._held):.0f} ms)"
        self._last, self._held = now, []
        return more
