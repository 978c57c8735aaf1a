"""Who is asking: the identity every use case acts on behalf of."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

__all__ = ["Actor"]


@dataclass(frozen=True, slots=True)
class Actor:
    id: uuid.UUID
    username: str
    display_name: str
    is_admin: bool
    # The sign-in session (refresh-token family) the request came through, when known.
    session_id: uuid.UUID | None = None

    @property
    def shown_name(self) -> str:
        """The name others see: ``display_name`` holds it already (``User.shown_name``)."""
        return self.display_name
