"""Tables. Column names follow the seed's schema (quoted camelCase) so a seed database is adopted in place."""

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.models.chats import Chat, ChatParticipant
from inner_circle.server.db.models.invites import InvitationCode
from inner_circle.server.db.models.messages import Message
from inner_circle.server.db.models.push import ChatMute, PushPreference, PushSubscription
from inner_circle.server.db.models.sync import ServerState, SyncEntry
from inner_circle.server.db.models.users import FcmToken, RefreshToken, User

__all__ = [
    "Base",
    "Chat",
    "ChatMute",
    "ChatParticipant",
    "FcmToken",
    "InvitationCode",
    "Message",
    "PushPreference",
    "PushSubscription",
    "RefreshToken",
    "ServerState",
    "SyncEntry",
    "User",
]
