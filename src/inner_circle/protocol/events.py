"""Socket.IO event names and the payloads that are not plain REST bodies.

Every event name the server, the SDK and the CLI use is a constant here (:class:`ServerEvent`
for what the server emits, :class:`ClientEvent` for what clients send); no other module
spells one out (ADR 11).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from inner_circle.core import limits
from inner_circle.core.cursors import CURSOR_PATTERN
from inner_circle.protocol.base import UtcDatetime, WireModel
from inner_circle.protocol.calls import (
    CallIdIn,
    IceCandidate,
    IceCandidateIn,
    SdpIn,
    SessionDescription,
)
from inner_circle.protocol.rest import CallStatus, CallType, MessageEditIn

__all__ = [
    "CallAccepted",
    "CallAnsweredElsewhere",
    "CallClientEvent",
    "CallEnded",
    "CallIdIn",
    "CallInitiated",
    "CallRejected",
    "CallServerEvent",
    "ChatRemoved",
    "ClientEvent",
    "EditMessageIn",
    "GetMessagesIn",
    "GroupCallParticipants",
    "IceCandidateIn",
    "IceRelayed",
    "IncomingCall",
    "MarkAsReadIn",
    "MarkedAsRead",
    "MessageRefIn",
    "Presence",
    "ReadMarker",
    "ReauthIn",
    "SdpIn",
    "SdpRelayed",
    "ServerEvent",
    "SyncIn",
    "TypingIn",
    "UserTyping",
]


class _EventNames:
    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every name the class declares, in declaration order."""
        return tuple(v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str))


class ServerEvent(_EventNames):
    """Names of the events the server emits."""

    MESSAGE_RECEIVED = "messageReceived"
    MESSAGE_SENT = "messageSent"
    MESSAGE_UPDATED = "messageUpdated"
    CHAT_CREATED = "chatCreated"
    CHAT_UPDATED = "chatUpdated"
    CHAT_REMOVED = "chatRemoved"
    USER_CHATS = "userChats"
    CHAT_MESSAGES = "chatMessages"
    USER_CONNECTED = "userConnected"
    USER_DISCONNECTED = "userDisconnected"
    PRESENCE = "presence"
    USER_TYPING = "userTyping"
    MESSAGES_READ = "messagesRead"
    # The seed's answer to ``markAsRead`` (the whole chat read), to the asking connection.
    MARKED_AS_READ = "markedAsRead"
    MESSAGES_DELIVERED = "messagesDelivered"
    USER_JOINED = "userJoined"
    USER_UPDATED = "userUpdated"
    ERROR = "error"
    # To this process's connections just before it stops: reconnect (elsewhere) at once.
    SERVER_SHUTDOWN = "serverShutdown"
    # Sent by earlier servers when a session ended; clients still listen for it.
    SESSION_ENDED = "sessionEnded"


class ClientEvent(_EventNames):
    """Names of the events clients send (the namespace's ``on_<name>`` handlers)."""

    SEND_MESSAGE = "sendMessage"
    GET_MESSAGES = "getMessages"
    GET_CHATS = "getChats"
    CREATE_CHAT = "createChat"
    TYPING = "typing"
    MARK_READ = "markRead"
    MARK_AS_READ = "markAsRead"
    MARK_DELIVERED = "markDelivered"
    EDIT_MESSAGE = "editMessage"
    DELETE_MESSAGE = "deleteMessage"
    SYNC = "sync"
    REAUTH = "reauth"
    # Whether the client is on screen (push notifications skip visible connections).
    VISIBILITY = "visibility"


class CallServerEvent(_EventNames):
    """Names of the events the server emits on the ``/calls`` namespace (docs/calls.md)."""

    INCOMING_CALL = "incoming_call"
    CALL_INITIATED = "call_initiated"
    CALL_ACCEPTED = "call_accepted"
    CALL_REJECTED = "call_rejected"
    CALL_ENDED = "call_ended"
    # To the callee's other devices when one of them accepted (they stop ringing).
    CALL_ANSWERED_ELSEWHERE = "call_answered_elsewhere"
    SDP_OFFER = "sdp_offer"
    SDP_ANSWER = "sdp_answer"
    ICE_CANDIDATE = "ice_candidate"
    GROUP_CALL_PARTICIPANTS = "group_call_participants"
    ERROR = "error"


class CallClientEvent(_EventNames):
    """Names of the events clients send on the ``/calls`` namespace."""

    ACCEPT_CALL = "accept_call"
    REJECT_CALL = "reject_call"
    END_CALL = "end_call"
    SDP_OFFER = "sdp_offer"
    SDP_ANSWER = "sdp_answer"
    ICE_CANDIDATE = "ice_candidate"
    JOIN_GROUP_CALL = "join_group_call"
    LEAVE_GROUP_CALL = "leave_group_call"
    REAUTH = "reauth"


class IncomingCall(WireModel):
    call_id: UUID
    remote_user_id: UUID
    caller_name: str
    call_type: CallType
    chat_id: UUID | None = None
    is_group: bool = False
    ring_until: UtcDatetime


class CallInitiated(WireModel):
    call_id: UUID
    status: CallStatus


class CallAccepted(WireModel):
    call_id: UUID
    receiver_id: UUID


class CallRejected(WireModel):
    call_id: UUID
    reason: str


class CallEnded(WireModel):
    call_id: UUID
    status: CallStatus
    reason: str | None = None


class CallAnsweredElsewhere(WireModel):
    call_id: UUID


class SdpRelayed(WireModel):
    """``sdp_offer`` / ``sdp_answer`` as the other side receives them."""

    call_id: UUID
    sdp: SessionDescription
    from_: UUID = Field(alias="from")


class IceRelayed(WireModel):
    call_id: UUID
    candidate: IceCandidate
    from_: UUID = Field(alias="from")


class GroupCallParticipants(WireModel):
    call_id: UUID
    participants: list[UUID]
    joined: UUID | None = None
    left: UUID | None = None


class GetMessagesIn(WireModel):
    chat_id: UUID
    limit: Annotated[int, Field(ge=1, le=limits.PAGE_MAX)] = limits.PAGE_DEFAULT
    # Given explicitly (the seed's paging): skip this many of the oldest messages.
    offset: Annotated[int, Field(ge=0, le=limits.PAGE_OFFSET_MAX)] | None = None
    before: Annotated[int, Field(ge=1, le=limits.SEQ_MAX)] | None = None
    after: Annotated[int, Field(ge=0, le=limits.SEQ_MAX)] | None = None


class MarkAsReadIn(WireModel):
    """The seed's ``markAsRead``: the whole chat, up to its newest message."""

    chat_id: UUID


class MarkedAsRead(WireModel):
    chat_id: UUID
    user_id: UUID


class MessageRefIn(WireModel):
    chat_id: UUID
    message_id: UUID


class EditMessageIn(MessageRefIn, MessageEditIn):
    pass


class TypingIn(WireModel):
    chat_id: UUID
    is_typing: bool = True


class UserTyping(WireModel):
    chat_id: UUID
    user_id: UUID
    username: str
    display_name: str
    is_typing: bool


class Presence(WireModel):
    user_id: UUID
    is_online: bool
    last_seen_at: UtcDatetime | None


class ChatRemoved(WireModel):
    chat_id: UUID


class ReadMarker(WireModel):
    """Payload of ``messagesRead`` and ``messagesDelivered``: a member's position in a chat."""

    chat_id: UUID
    user_id: UUID
    seq: int


class SyncIn(WireModel):
    # ``<epoch>:<id>`` as /sync gave it; a plain integer from servers before epochs.
    since: (
        Annotated[str, Field(max_length=64, pattern=CURSOR_PATTERN)]
        | Annotated[int, Field(ge=0, le=limits.CURSOR_MAX)]
        | None
    ) = None
    limit: Annotated[int, Field(ge=1, le=limits.SYNC_PAGE_MAX)] = limits.SYNC_PAGE_DEFAULT


class ReauthIn(WireModel):
    """``reauth``: a fresh access token of the same member extends a live connection."""

    token: Annotated[str, Field(min_length=1, max_length=4096)]
