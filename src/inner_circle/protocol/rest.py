"""Request and response bodies of the REST API (and the socket payloads that reuse them)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from inner_circle.core import limits, usernames
from inner_circle.core.text import clean_display_name, is_blank
from inner_circle.protocol.base import UtcDatetime, WireModel

__all__ = [
    "AttachmentKind",
    "AttachmentOut",
    "CallStatus",
    "CallSummary",
    "CallType",
    "ChatMediaItem",
    "ChatMediaPage",
    "ChatOut",
    "ChatRef",
    "ChatRenameIn",
    "FcmTokenIn",
    "ForwardIn",
    "ForwardedFromOut",
    "GroupChatIn",
    "InviteCreateIn",
    "InviteOut",
    "LoginIn",
    "MarkReadIn",
    "MemberReadState",
    "MemberStorage",
    "MessageContentIn",
    "MessageEditIn",
    "MessageOut",
    "MessagePage",
    "ParticipantsAddIn",
    "PasswordChangeIn",
    "PasswordResetIn",
    "PrivateChatIn",
    "ProfileUpdateIn",
    "ReactionOut",
    "ReadPositionIn",
    "ReadStateOut",
    "RefreshIn",
    "RegisterIn",
    "RemovedOut",
    "ReplyToOut",
    "SearchHitOut",
    "SearchPageOut",
    "SendMessageIn",
    "StorageOut",
    "SyncEvent",
    "SyncOut",
    "TextRange",
    "TokenPair",
    "UploadErrorOut",
    "UploadMetadataIn",
    "UploadStatusOut",
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


AttachmentKind = Literal["image", "video", "audio", "voice", "file"]


class AttachmentOut(WireModel):
    """A file of a message (docs/media.md); URLs are short-lived signed URLs."""

    id: UUID
    kind: AttachmentKind
    name: str
    size: int
    mime_type: str
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    waveform: list[int] | None = None
    blurhash: str | None = None
    thumbnail_url: str | None = None
    preview_url: str | None = None
    url: str


class ReplyToOut(WireModel):
    """The message a reply quotes, as it is now: a deleted original has ``deleted`` and no
    preview."""

    id: UUID
    sender_id: UUID
    sender_name: str
    preview: str
    deleted: bool = False


class ForwardedFromOut(WireModel):
    """Where a forwarded message first came from (a forward of a forward names the origin)."""

    message_id: UUID
    chat_id: UUID
    sender_id: UUID
    sender_name: str


class ReactionOut(WireModel):
    emoji: str
    count: int
    user_ids: list[UUID]


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
    # Media: ``content`` is the caption or, without one, a text fallback for clients that
    # know no attachments ("📷 Photo"); ``caption`` is the member's own text only.
    attachments: list[AttachmentOut] = Field(default_factory=list)
    caption: str = ""
    # Rich messaging (ADR 14); defaulted so clients that do not know them are unaffected.
    reply_to: ReplyToOut | None = None
    forwarded_from: ForwardedFromOut | None = None
    reactions: list[ReactionOut] = Field(default_factory=list)
    mentions: list[UUID] = Field(default_factory=list)
    pinned_at: UtcDatetime | None = None
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
    # Unread messages that mention the viewer (the "@" badge).
    unread_mentions: int = 0


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


class MessageContentIn(WireModel):
    """A message to send: text, files (finished uploads, docs/media.md), or both."""

    content: Annotated[str, StringConstraints(max_length=limits.MESSAGE_MAX)] = ""
    client_message_id: ClientMessageId | None = None
    attachment_ids: Annotated[
        list[UUID], Field(default_factory=list, max_length=limits.ATTACHMENTS_MAX)
    ]

    @model_validator(mode="after")
    def _something_to_send(self) -> MessageContentIn:
        if not self.attachment_ids and is_blank(self.content):
            raise ValueError(
                "content must not be blank (invisible characters do not count) "
                "unless attachmentIds are given"
            )
        if len(set(self.attachment_ids)) != len(self.attachment_ids):
            raise ValueError("attachmentIds must not repeat")
        return self

    # A message of the same chat this one answers.
    reply_to_id: UUID | None = None


class SendMessageIn(MessageContentIn):
    chat_id: UUID


class ForwardIn(WireModel):
    """Copy messages (in the order given) into other chats, each marked "Forwarded from"."""

    message_ids: Annotated[list[UUID], Field(min_length=1, max_length=limits.FORWARD_MESSAGES_MAX)]
    to_chat_ids: Annotated[list[UUID], Field(min_length=1, max_length=limits.FORWARD_CHATS_MAX)]

    @field_validator("message_ids", "to_chat_ids")
    @classmethod
    def _distinct(cls, value: list[UUID]) -> list[UUID]:
        if len(set(value)) != len(value):
            raise ValueError("ids must not repeat")
        return value


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
    "message",
    "messageUpdated",
    "reactionsUpdated",
    "messagePinned",
    "messageUnpinned",
    "chat",
    "chatRemoved",
    "read",
    "delivered",
    "user",
]


class SyncEvent(WireModel):
    """One missed change. ``type`` says which of the other fields is set:
    message, messageUpdated (edited or deleted), reactionsUpdated, messagePinned,
    messageUnpinned → ``message`` (as it is now); chat (created, renamed, members changed) → ``chat``;
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


# --- media (docs/media.md) ------------------------------------------------------------------

UploadState = Literal["uploading", "processing", "ready", "failed"]
WAVEFORM_MAX = 256
DURATION_MAX_MS = 24 * 3600 * 1000


class UploadErrorOut(WireModel):
    code: str
    message: str


class UploadStatusOut(WireModel):
    """A tus upload's progress; ``attachment`` once ready, ``error`` once failed."""

    id: UUID
    status: UploadState
    offset: int
    size: int
    attachment: AttachmentOut | None = None
    error: UploadErrorOut | None = None


class UploadMetadataIn(WireModel):
    """The known keys of tus ``Upload-Metadata`` (others are ignored)."""

    filename: Annotated[str, StringConstraints(max_length=1024)] = "file"
    filetype: Annotated[str, StringConstraints(max_length=255)] | None = None
    kind: Literal["voice", "image", "video", "audio", "file"] | None = None
    duration_ms: Annotated[int, Field(ge=1, le=DURATION_MAX_MS)] | None = None
    waveform: (
        Annotated[list[Annotated[int, Field(ge=0, le=255)]], Field(max_length=WAVEFORM_MAX)] | None
    ) = None

    @field_validator("waveform", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return [int(part) for part in value.split(",") if part.strip()]
            except ValueError as exc:
                raise ValueError("waveform: comma-separated integers 0..255") from exc
        return value


class ChatMediaItem(WireModel):
    attachment: AttachmentOut
    message_id: UUID
    sender_id: UUID
    created_at: UtcDatetime


class ChatMediaPage(WireModel):
    items: list[ChatMediaItem]
    next_before: str | None = None


class MemberStorage(WireModel):
    user_id: UUID
    username: str
    display_name: str
    bytes: int
    files: int
    quota_bytes: int


class StorageOut(WireModel):
    total_bytes: int
    file_count: int
    members: list[MemberStorage]


class TextRange(WireModel):
    """[start, end) in UTF-16 code units (how JavaScript and Dart index strings)."""

    start: int
    end: int


class SearchHitOut(WireModel):
    message: MessageOut
    # The words of ``message.content`` that matched the query.
    highlights: list[TextRange]


class SearchPageOut(WireModel):
    hits: list[SearchHitOut]
    # Pass as ``before`` for the next (older) page; null when there is none.
    next_before: str | None
