"""Wire shapes of calls: REST bodies and answers, and the ``/calls`` event payloads
(docs/calls.md). Field names are the seed's (``callerIceCandidates``, ``sdpOffer`` ...)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from inner_circle.protocol.base import UtcDatetime, WireModel
from inner_circle.protocol.rest import CallStatus, CallType, UserBrief

__all__ = [
    "MAX_CANDIDATE_CHARS",
    "MAX_SDP_CHARS",
    "AckOut",
    "CallIdIn",
    "CallOut",
    "CallRespondIn",
    "IceCandidate",
    "IceCandidateIn",
    "IceServer",
    "InitiateCallIn",
    "PublicRespondIn",
    "SdpIn",
    "SessionDescription",
    "WebRtcConfigOut",
]

MAX_SDP_CHARS = 64 * 1024
MAX_CANDIDATE_CHARS = 2048


def _absent(value: Any) -> bool:
    return value is None


def _seed_type(value: Any) -> Any:
    """The seed's app and entity call an audio call ``voice``."""
    return "audio" if value == "voice" else value


class InitiateCallIn(WireModel):
    """``targetUserId`` for a call to one member, or ``chatId`` for a group call (ext)."""

    target_user_id: UUID | None = None
    chat_id: UUID | None = None
    type: Annotated[CallType, BeforeValidator(_seed_type)] = "audio"

    @model_validator(mode="after")
    def _one_target(self) -> InitiateCallIn:
        if (self.target_user_id is None) == (self.chat_id is None):
            raise ValueError("give exactly one of targetUserId and chatId")
        return self


class CallRespondIn(WireModel):
    call_id: UUID
    action: Literal["accept", "reject"]


class PublicRespondIn(WireModel):
    """The seed's native decline button: no token, only a decline."""

    call_id: UUID
    action: Literal["reject"] = "reject"


class SessionDescription(WireModel):
    sdp: Annotated[str, StringConstraints(max_length=MAX_SDP_CHARS)]
    type: Literal["offer", "answer", "pranswer", "rollback"]


class IceCandidate(WireModel):
    """As the browser's ``RTCIceCandidate.toJSON()``; absent fields stay absent."""

    candidate: Annotated[str, StringConstraints(max_length=MAX_CANDIDATE_CHARS)]
    sdp_mid: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, exclude_if=_absent
    )
    sdp_m_line_index: Annotated[int, Field(ge=0, le=255)] | None = Field(
        default=None, exclude_if=_absent
    )
    username_fragment: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, exclude_if=_absent
    )


class CallOut(WireModel):
    id: UUID
    caller_id: UUID
    receiver_id: UUID | None
    chat_id: UUID | None
    status: CallStatus
    type: CallType
    started_at: UtcDatetime | None
    ended_at: UtcDatetime | None
    duration: int | None  # seconds, the seed's
    duration_ms: int | None
    end_reason: str | None
    caller_ice_candidates: list[IceCandidate] | None
    receiver_ice_candidates: list[IceCandidate] | None
    sdp_offer: SessionDescription | None
    ring_until: UtcDatetime
    created_at: UtcDatetime
    updated_at: UtcDatetime
    caller: UserBrief
    receiver: UserBrief | None
    participants: list[UUID]


class IceServer(WireModel):
    """An ``RTCIceServer``: STUN entries carry no username or credential at all."""

    urls: list[str]
    username: str | None = Field(default=None, exclude_if=_absent)
    credential: str | None = Field(default=None, exclude_if=_absent)


class AckOut(WireModel):
    ok: bool


class WebRtcConfigOut(WireModel):
    ice_servers: list[IceServer]
    ttl: int


# --- /calls event payloads (client → server) ----------------------------------------


class CallIdIn(WireModel):
    """``accept_call``, ``reject_call``, ``end_call``, ``join_group_call``,
    ``leave_group_call``: the seed's extra ids (``callerId``, ``remoteUserId``) are ignored."""

    call_id: UUID


class SdpIn(CallIdIn):
    """``sdp_offer`` / ``sdp_answer``; ``targetId`` picks the peer in a group call."""

    sdp: SessionDescription
    target_id: UUID | None = None


class IceCandidateIn(CallIdIn):
    candidate: IceCandidate
    target_id: UUID | None = None
