"""The seed's Flutter app's models, as checks on our JSON.

Each check reads a payload the way the Dart code does (``json['chat']['id'] as String``,
``DateTime.parse(json['updatedAt'] as String)``, ``JwtDecoder.isExpired(token)``): where
the app would throw, the check fails, naming the field. Sources, in the seed's
repository (see docs/api.md "Seed app compatibility"): ``message_model.dart``,
``user_public_model.dart``, ``chat_list_screen.dart``, ``auth_service.dart``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any

__all__ = [
    "check_call",
    "check_chat_item",
    "check_incoming_call",
    "check_login",
    "check_message",
    "check_refresh",
    "check_signal",
    "check_user",
    "decode_jwt",
    "is_expired",
]

# What Dart's DateTime.parse accepts (the subset we serve is ISO 8601 with 'Z').
_DART_DATE = re.compile(
    r"^[+-]?\d{4,6}-?\d\d-?\d\d(?:[T ](\d\d)(?::?(\d\d)(?::?(\d\d)(?:[.,](\d+))?)?)?"
    r"( ?[zZ]| ?([-+])(\d\d)(?::?(\d\d))?)?)?$"
)


class DartTypeError(AssertionError):
    """Where the Dart app would throw (a cast failing on a missing or mistyped field)."""


def _get(obj: Any, path: str) -> Any:
    value = obj
    for key in path.split("."):
        if not isinstance(value, dict):
            raise DartTypeError(f"{path}: {key!r} read from a {type(value).__name__}")
        value = value.get(key)
    return value


def _string(obj: Any, path: str) -> str:
    value = _get(obj, path)
    if not isinstance(value, str):
        raise DartTypeError(f"{path} as String: got {value!r}")
    return value


def _bool(obj: Any, path: str) -> bool:
    value = _get(obj, path)
    if not isinstance(value, bool):
        raise DartTypeError(f"{path} as bool: got {value!r}")
    return value


def _num(obj: Any, path: str) -> float:
    value = _get(obj, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DartTypeError(f"{path} as num: got {value!r}")
    return value


def _date(obj: Any, path: str) -> str:
    value = _string(obj, path)
    if not _DART_DATE.match(value):
        raise DartTypeError(f"DateTime.parse({path}): {value!r} is not a date Dart reads")
    return value


def check_message(message: Any) -> None:
    """``Message.fromJson`` (message_model.dart), plus the fields the contract lists."""
    for path in ("id", "content", "sender.id", "sender.username", "chat.id", "senderId", "chatId"):
        _string(message, path)
    _date(message, "createdAt")
    _date(message, "updatedAt")
    if message["chat"]["id"] != message["chatId"]:
        raise DartTypeError("chat.id and chatId differ")


def check_user(user: Any) -> None:
    """``UserPublicDto.fromJson`` (user_public_model.dart)."""
    _string(user, "id")
    _string(user, "username")
    _bool(user, "isAdmin")
    _date(user, "createdAt")
    _date(user, "updatedAt")


def check_chat_item(chat: Any) -> None:
    """What chat_list_screen.dart reads of each ``GET /chats`` item."""
    _string(chat, "id")
    _string(chat, "name")
    _bool(chat, "isPrivate")
    if not isinstance(_get(chat, "participants"), list):
        raise DartTypeError("participants is not a list")
    for key in ("lastMessage", "unreadCount", "createdAt", "updatedAt"):
        if key not in chat:
            raise DartTypeError(f"{key} missing")
    last = chat["lastMessage"]
    if last is not None:  # the screen shows only the chat type when there is none
        _string(last, "content")
        _string(last, "senderId")
        _string(last, "sender.username")
        _date(last, "createdAt")
    _num(chat, "unreadCount")
    _date(chat, "createdAt")
    _date(chat, "updatedAt")


def _optional_date(obj: Any, path: str) -> None:
    if _get(obj, path) is not None:
        _date(obj, path)


def check_call(call: Any) -> None:
    """A ``Call`` of the calls REST (webrtc_service.dart reads ``id``; the call model and
    the native call screen the rest: ``sdpOffer`` and ``callerIceCandidates`` to resume)."""
    for path in ("id", "callerId", "receiverId", "status", "type", "caller.id", "caller.username"):
        _string(call, path)
    _string(call, "receiver.username")
    _date(call, "createdAt")
    _date(call, "updatedAt")
    _optional_date(call, "startedAt")
    _optional_date(call, "endedAt")
    _num(call, "duration")
    for key in ("callerIceCandidates", "receiverIceCandidates"):
        candidates = _get(call, key)
        if not isinstance(candidates, list):
            raise DartTypeError(f"{key} is not a list")
        for candidate in candidates:
            _string(candidate, "candidate")
    offer = _get(call, "sdpOffer")
    if offer is not None:
        _string(offer, "sdp")
        _string(offer, "type")


def check_incoming_call(payload: Any) -> None:
    """``_handleIncomingCall`` (webrtc_service.dart): the ids and the caller's name."""
    for path in ("callId", "remoteUserId", "callType", "callerName"):
        _string(payload, path)


def check_signal(payload: Any, kind: str) -> None:
    """``sdp_offer`` / ``sdp_answer`` / ``ice_candidate`` as the app's handlers read them."""
    _string(payload, "callId")
    _string(payload, "from")
    if kind == "ice_candidate":
        _string(payload, "candidate.candidate")
        if (
            _get(payload, "candidate.sdpMid") is None
            and _get(payload, "candidate.sdpMLineIndex") is None
        ):
            raise DartTypeError("candidate without sdpMid or sdpMLineIndex")
    else:
        _string(payload, "sdp.sdp")
        _string(payload, "sdp.type")


def decode_jwt(token: str) -> dict[str, Any]:
    """``JwtDecoder.decode`` (jwt_decoder 2.x): three parts, a base64url JSON object in the
    middle; anything else throws ``FormatException``."""
    parts = token.split(".")
    if len(parts) != 3:
        raise DartTypeError("FormatException: not a JWT (the app logs the member out)")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError as exc:
        raise DartTypeError(f"FormatException: {exc}") from exc
    if not isinstance(claims, dict):
        raise DartTypeError("FormatException: the payload is not a JSON object")
    return claims


def is_expired(token: str) -> bool:
    """``JwtDecoder.isExpired``: reads ``exp`` (seconds); no ``exp`` throws."""
    exp = decode_jwt(token).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise DartTypeError(f"exp: got {exp!r}")
    return time.time() >= exp


def check_login(answer: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """login_screen.dart / auth_service.dart: ``access_token``, ``refresh_token`` (both JWTs
    the app decodes: ``sub`` and ``username`` from the access token, ``isExpired`` on the
    refresh token at every start) and ``user``. Returns both tokens' claims."""
    access = decode_jwt(_string(answer, "access_token"))
    refresh = decode_jwt(_string(answer, "refresh_token"))
    for claims in (access, refresh):
        _string(claims, "sub")
        _string(claims, "username")
        _num(claims, "exp")
    if is_expired(answer["access_token"]) or is_expired(answer["refresh_token"]):
        raise DartTypeError("a token is expired on arrival")
    check_user(answer.get("user"))
    return access, refresh


def check_refresh(answer: Any) -> None:
    """``refreshAccessToken``: a new ``access_token``; a ``refresh_token`` the app stores."""
    check_login(answer)
    _num(answer, "expires_in")
