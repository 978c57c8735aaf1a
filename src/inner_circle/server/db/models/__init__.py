"""Tables. Column names follow the seed's schema (quoted camelCase) so a seed database is adopted in place."""

from inner_circle.server.db.models.base import Base
from inner_circle.server.db.models.calls import Call, CallLine, CallMember
from inner_circle.server.db.models.chats import Chat, ChatParticipant
from inner_circle.server.db.models.invites import InvitationCode
from inner_circle.server.db.models.media import Attachment, Blob, Upload
from inner_circle.server.db.models.messages import Message
from inner_circle.server.db.models.push import ChatMute, PushPreference, PushSubscription
from inner_circle.server.db.models.rich import MessageMention, MessageReaction
from inner_circle.server.db.models.search import MessageSearch
from inner_circle.server.db.models.sync import ServerState, SyncEntry
from inner_circle.server.db.models.users import FcmToken, RefreshToken, User

__all__ = [
    "Attachment",
    "Base",
    "Blob",
    "Call",
    "CallLine",
    "CallMember",
    "Chat",
    "ChatMute",
    "ChatParticipant",
    "FcmToken",
    "InvitationCode",
    "Message",
    "MessageMention",
    "MessageReaction",
    "MessageSearch",
    "PushPreference",
    "PushSubscription",
    "RefreshToken",
    "ServerState",
    "SyncEntry",
    "Upload",
    "User",
]
