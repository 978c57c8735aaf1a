"""The entry a finished call writes into its chat, through the normal send path."""

from __future__ import annotations

from inner_circle.core.actor import Actor
from inner_circle.core.errors import (
    InnerCircleError,
    NotFound,
)
from inner_circle.protocol.rest import CallSummary, SendMessageIn
from inner_circle.server.db.models import Call
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.services import chats as chat_service
from inner_circle.server.services import messages

__all__ = [
    "entry_text",
    "write_entry",
]


def entry_text(call: Call) -> str:
    """The text old clients show for a call entry (clients with ``kind`` render ``call``)."""
    icon = "📹" if call.type == "video" else "📞"
    noun = "video call" if call.type == "video" else "audio call"
    if call.receiver_id is None:
        noun = f"group {noun}"
    if call.started_at is not None:
        seconds = (call.duration_ms or 0) // 1000
        minutes, secs = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        length = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
        return f"{icon} {noun[0].upper()}{noun[1:]}, {length}"
    word = "Declined" if call.status == "rejected" else "Missed"
    return f"{icon} {word} {noun}"


async def write_entry(uow: UnitOfWork, call: Call) -> None:
    """Write the finished call into its chat (the private chat of the two, created if
    needed), as the caller, through the normal send path (sync log, unread, push)."""
    caller = await users_repo.by_id(uow.session, call.caller_id)
    if caller is None:
        return
    sender = Actor(caller.id, caller.username, caller.shown_name, caller.is_admin)
    chat_id = call.chat_id
    if call.receiver_id is not None:
        try:
            chat, _ = await chat_service.get_or_create_private_chat(uow, sender, call.receiver_id)
        except NotFound:
            return  # the callee's account is gone: no chat to write into
        chat_id = chat.id
    if chat_id is None:
        return
    summary = CallSummary(
        id=call.id,
        type=call.type,  # type: ignore[arg-type]
        status=call.status,  # type: ignore[arg-type]
        duration_ms=call.duration_ms or 0,
        caller_id=call.caller_id,
        end_reason=call.end_reason,
    )
    body = SendMessageIn(
        chat_id=chat_id, content=entry_text(call), client_message_id=f"call:{call.id}"
    )
    (result,) = await messages.send_messages(
        uow, [messages.SendRequest(sender, body, call=summary)]
    )
    if isinstance(result, InnerCircleError) and not isinstance(result, NotFound):
        raise result
