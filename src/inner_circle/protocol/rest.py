"""Request and response bodies of the REST API (and the socket payloads that reuse them)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AliasChoices, Field, StringConstraints, field_validator

from inner_circle.core import limits, usernames
from inner_circle.core.text import clean_display_name, is_blank
from inner_circle.protocol.base import UtcDatetime, WireModel

__all__ = [
    "CallStatus",
    "CallSummary",
    "CallType",
    "ChatOut",
    "ChatRef",
    "ChatRenameIn",
    "FcmTokenIn",
    "GroupChatIn",
    "InviteCreateIn",
    "InviteOut",
    "LoginIn",
    "MarkReadIn",
    "MemberReadState",
    "MessageContentIn",
    "MessageEditIn",
    "MessageOut",
    "MessagePage",
    "ParticipantsAddIn",
    "PasswordChangeIn",
    "PasswordResetIn",
    "PrivateChatIn",
    "ProfileUpdateIn",
    "ReadPositionIn",
    "ReadStateOut",
    "RefreshIn",
    "RegisterIn",
    "RemovedOut",
    "SendMessageIn",
    "SyncEvent",
    "SyncOut",
    "TokenPair",
    "UserBrief",
    "UserOut",
]


def _username(value: str) -> str:
    return usernames.validate(value)  # InvalidUsername is a ValueError: a 400 with its message


# Any alphabet, NFKC, no look-alike mixes: the rules live in core/usernames.py.
Username = Annotated[
    str,
    StringConstraints(max_length=limits.USERNAME_MAX * 4),
    AfterValidator(_username),
]
Password = Annotated[
    str, StringConstraints(min_length=limits.PASSWORD_MIN, max_length=limits.PASSWORD_MAX)
]


def _display_name(value: str) -> str:
    cleaned = clean_display_name(value)
    if not cleaned:
        raise ValueError("display name must contain visible characters")
    if len(cleaned) > limits.DISPLAY_NAME_MAX:
        raise ValueError(f"display name must be at most {limits.DISPLAY_NAME_MAX} characters")
    return cleaned


# Stored cleaned (core/text.py); the raw bound keeps normalisation cheap.
DisplayName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=limits.DISPLAY_NAME_MAX * 4),
    AfterValidator(_display_name),
]
ChatName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=limits.CHAT_NAME_MAX)
]
MessageText = Annotated[str, StringConstraints(min_length=1, max_length=limits.MESSAGE_MAX)]
ClientMessageId = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=limits.CLIENT_MESSAGE_ID_MAX, pattern=r"^[A-Za-z0-9_.:\-]+$"
    ),
]
ChatType = Literal["family", "private", "group"]


# --- users and auth ---------------------------------------------------------------


class UserBrief(WireModel):
    id: UUID
    username: str
    display_name: str


class UserOut(UserBrief):
    is_admin: bool
    is_active: bool
    is_online: bool = False
    last_seen_at: UtcDatetime | None = None
    created_at: UtcDatetime
    # The seed's app parses it (a String) on every user it shows.
    updated_at: UtcDatetime


class LoginIn(WireModel):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=limits.PASSWORD_MAX)]


class RefreshIn(WireModel):
    # A JWT that wraps the session secret (or, before the upgrade, the bare secret).
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=2048)] = Field(
        validation_alias=AliasChoices("refresh_token", "refreshToken")
    )


class TokenPair(WireModel):
    """The seed's login answer (``access_token``, ``user``) plus a refresh token."""

    access_token: str = Field(serialization_alias="access_token")
    refresh_token: str = Field(serialization_alias="refresh_token")
    token_type: str = Field(default="Bearer", serialization_alias="token_type")
    expires_in: int = Field(serialization_alias="expires_in")
    user: UserOut


class RegisterIn(WireModel):
    username: Username
    password: Password
    invitation_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    display_name: DisplayName | None = None


class ProfileUpdateIn(WireModel):
    display_name: DisplayName


class PasswordChangeIn(WireModel):
    current_password: Annotated[
        str, StringConstraints(min_length=1, max_length=limits.PASSWORD_MAX)
    ]
    new_password: Password


class PasswordResetIn(WireModel):
    new_password: Password


# --- invitations --------------------------------------------------------------------


class InviteCreateIn(WireModel):
    usage_limit: Annotated[int, Field(ge=1, le=limits.INVITE_USES_MAX)] = 1
    expires_at: UtcDatetime | None = None
    expires_in_seconds: Annotated[int, Field(ge=60, le=366 * 24 * 3600)] | None = None
    is_admin: bool = False

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: UtcDatetime | None) -> UtcDatetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expiresAt must carry a timezone, e.g. 2030-01-01T00:00:00Z")
        return value


InviteStatus = Literal["active", "used", "expired", "revoked"]


class InviteOut(WireModel):
    id: UUID
    code: str
    usage_limit: int
    used_count: int
    is_used: bool
    is_admin: bool
    status: InviteStatus
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None
    created_at: UtcDatetime
    created_by_id: UUID | None


# --- chats and messages -------------------------------------------------------------


class ChatRef(WireModel):
    """The chat a message belongs to (the seed's app reads ``chat.id``). ``name`` is the
    chat's stored name; a private chat's name as each member sees it is in ``ChatOut``."""

    id: UUID
    name: str


CallType = Literal["audio", "video"]
CallStatus = Literal["ringing", "accepted", "ended", "rejected", "missed", "busy", "failed"]


class CallSummary(WireModel):
    """The call a ``kind: "call"`` message stands for (docs/calls.md)."""

    id: UUID
    type: CallType
    status: CallStatus
    duration_ms: int
    caller_id: UUID
    end_reason: str | None = None


class MessageOut(WireModel):
    id: UUID
    chat_id: UUID
    chat: ChatRef
    seq: int
    sender_id: UUID
    sender: UserBrief
    content: str
    client_message_id: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    edited_at: UtcDatetime | None = None
    deleted_at: UtcDatetime | None = None
    # "call": an entry a finished call wrote; ``content`` is the text old clients show.
    kind: Literal["text", "call"] = "text"
    call: CallSummary | None = None


class MemberReadState(WireModel):
    user_id: UUID
    last_read_seq: int
    last_delivered_seq: int


class ChatOut(WireModel):
    id: UUID
    name: str
    type: ChatType
    # The seed's flag beside our ``type``: true for a 1:1 chat.
    is_private: bool
    participants: list[UserBrief]
    participant_ids: list[UUID]
    last_message: MessageOut | None
    last_seq: int
    last_read_seq: int
    unread_count: int
    read_states: list[MemberReadState]
    created_at: UtcDatetime
    updated_at: UtcDatetime
    # Groups: whether members added later read the earlier messages (else only what is
    # sent after they joined). Always true for the family chat and private chats.
    new_members_see_history: bool = True


class PrivateChatIn(WireModel):
    target_user_id: UUID


class GroupChatIn(WireModel):
    name: ChatName
    participant_ids: Annotated[list[UUID], Field(max_length=limits.GROUP_MEMBERS_MAX)] = Field(
        default_factory=list
    )
    # False: members added later see only messages sent after they joined.
    new_members_see_history: bool = True


class ChatRenameIn(WireModel):
    name: ChatName


class RemovedOut(WireModel):
    """The seed's answer to ``DELETE /chats/:id``."""

    message: str


class FcmTokenIn(WireModel):
    """The device's Firebase Cloud Messaging token, stored for the signed-in session."""

    fcm_token: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)
    ]


class ParticipantsAddIn(WireModel):
    user_ids: Annotated[list[UUID], Field(min_length=1, max_length=limits.GROUP_MEMBERS_MAX)]


class MessageEditIn(WireModel):
    content: MessageText

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if is_blank(value):
            raise ValueError("content must not be blank (invisible characters do not count)")
        return value


class MessageContentIn(MessageEditIn):
    client_message_id: ClientMessageId | None = None


class SendMessageIn(MessageContentIn):
    chat_id: UUID


class ReadPositionIn(WireModel):
    seq: Annotated[int, Field(ge=0, le=limits.SEQ_MAX)]


class MessagePage(WireModel):
    chat_id: UUID
    messages: list[MessageOut]
    has_more: bool


class MarkReadIn(WireModel):
    chat_id: UUID
    seq: Annotated[int, Field(ge=0, le=limits.SEQ_MAX)]


class ReadStateOut(WireModel):
    chat_id: UUID
    user_id: UUID
    last_read_seq: int
    unread_count: int


SyncEventType = Literal[
    "message", "messageUpdated", "chat", "chatRemoved", "read", "delivered", "user"
]


class SyncEvent(WireModel):
    """One missed change. ``type`` says which of the other fields is set:
    message, messageUpdated (edited or deleted) → ``message``; chat (created, renamed, members changed) → ``chat``;
    chatRemoved → ``chatId``; read / delivered → ``chatId``, ``userId``, ``seq``;
    user (joined, profile, deactivated) → ``user``."""

    id: int
    type: SyncEventType
    message: MessageOut | None = None
    chat: ChatOut | None = None
    chat_id: UUID | None = None
    user_id: UUID | None = None
    seq: int | None = None
    user: UserOut | None = None


class SyncOut(WireModel):
    """``GET /sync``: with ``since``, the changes after it (``events``); without, a fresh start
    (``chats`` and their recent ``messages``). Store ``cursor`` and pass it as ``since`` next
    time (it is opaque: ``<epoch>:<id>``); while ``hasMore``, call again at once. ``reset``
    means the cursor is unknown to this
    server (a restored backup): drop local state and start fresh."""

    cursor: str
    has_more: bool = False
    reset: bool = False
    events: list[SyncEvent] = Field(default_factory=list)
    chats: list[ChatOut] | None = None
    messages: list[MessageOut] | None = None
