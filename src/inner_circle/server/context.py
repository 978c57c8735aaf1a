"""What every use case may need besides its unit of work."""

from __future__ import annotations

from dataclasses import dataclass

from inner_circle.core.clock import Clock
from inner_circle.server.media.runtime import MediaRuntime
from inner_circle.server.ports import PresenceTracker
from inner_circle.server.security import PasswordService, TokenService
from inner_circle.server.settings import Settings

__all__ = ["ServerContext"]


@dataclass
class ServerContext:
    settings: Settings
    clock: Clock
    passwords: PasswordService
    tokens: TokenService
    presence: PresenceTracker
    media: MediaRuntime | None = None
