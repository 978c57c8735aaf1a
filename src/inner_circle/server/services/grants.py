"""Whether the grant behind an access token still holds: the member, the token version and
the sign-in session, read from the database now.

A REST request checks this once per request. A live socket holds its grant for hours, so
the socket edge asks again: before events (at most a second or two after the last check),
in a sweep over every connection of a server process, and right after connecting (a
revocation may commit while a connection is being set up). The rules are the same for
all three, and they are here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from inner_circle.core import usernames
from inner_circle.core.actor import Actor
from inner_circle.core.errors import ErrorCode, Forbidden, InnerCircleError, Unauthenticated
from inner_circle.server.db.uow import UnitOfWork
from inner_circle.server.repositories import tokens as tokens_repo
from inner_circle.server.security import AccessClaims

__all__ = ["Member", "Review", "confirm", "judge", "review"]

ENDED = "The session has ended; sign in again"
DEACTIVATED = "This account has been deactivated"


@dataclass(frozen=True, slots=True)
class Member:
    """What a grant depends on, copied out of the row (usable after the unit of work)."""

    id: uuid.UUID
    username: str
    display_name: str
    is_admin: bool
    is_active: bool
    token_version: int


@dataclass(frozen=True, slots=True)
class Review:
    """The current state of some members and sessions, read in one go."""

    users: dict[uuid.UUID, Member]
    live_sessions: set[uuid.UUID]


async def review(
    uow: UnitOfWork, user_ids: Iterable[uuid.UUID], session_ids: Iterable[uuid.UUID]
) -> Review:
    """Read the members and sessions behind many grants: two queries, whatever their number."""
    members = await tokens_repo.grant_members(uow.session, user_ids)
    live = await tokens_repo.live_sessions(uow.session, session_ids, uow.ctx.clock.now())
    return Review({m.id: _member(m) for m in members}, live)


def _member(row: tokens_repo.GrantMember) -> Member:
    shown = usernames.shown_name(row.username, row.display_name)
    return Member(row.id, row.username, shown, row.is_admin, row.is_active, row.token_version)


def judge(claims: AccessClaims, state: Review) -> Actor | InnerCircleError:
    """The actor the grant stands for now, or why it no longer holds.

    Refused: an unknown member or a token of another version (password changed or reset,
    member deactivated) and a session that logged out, was revoked (refresh-token reuse)
    or expired answer TOKEN_INVALID; a deactivated member ACCOUNT_DEACTIVATED. Admin
    rights and names are the current ones, not those at sign-in.
    """
    user = state.users.get(claims.user_id)
    if user is None or user.token_version != claims.token_version:
        return Unauthenticated(ENDED, ErrorCode.TOKEN_INVALID)
    if not user.is_active:
        return Forbidden(DEACTIVATED, ErrorCode.ACCOUNT_DEACTIVATED)
    if claims.session_id is not None and claims.session_id not in state.live_sessions:
        return Unauthenticated(ENDED, ErrorCode.TOKEN_INVALID)
    return Actor(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        is_admin=user.is_admin,
        session_id=claims.session_id,
    )


async def confirm(uow: UnitOfWork, claims: AccessClaims) -> Actor:
    """The actor of one grant, read now. Raises what :func:`judge` refuses with."""
    now = uow.ctx.clock.now()
    state = await tokens_repo.grant_state(uow.session, claims.user_id, claims.session_id, now)
    users: dict[uuid.UUID, Member] = {}
    live: set[uuid.UUID] = set()
    if state is not None:
        users[claims.user_id] = _member(state.member)
        if state.session_live and claims.session_id is not None:
            live.add(claims.session_id)
    verdict = judge(claims, Review(users, live))
    if isinstance(verdict, InnerCircleError):
        raise verdict
    return verdict
