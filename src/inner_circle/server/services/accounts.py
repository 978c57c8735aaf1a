"""Family members' accounts: joining, profiles, and what admins may do to them."""

from __future__ import annotations

import uuid

from inner_circle.core import usernames
from inner_circle.core.actor import Actor
from inner_circle.core.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from inner_circle.core.text import name_key
from inner_circle.protocol.events import ServerEvent
from inner_circle.protocol.rest import (
    PasswordChangeIn,
    PasswordResetIn,
    ProfileUpdateIn,
    RegisterIn,
    UserOut,
)
from inner_circle.server.access import access_member, require_admin
from inner_circle.server.db.models import InvitationCode, User
from inner_circle.server.db.uow import UnitOfWork, UnitOfWorkFactory
from inner_circle.server.repositories import chats as chats_repo
from inner_circle.server.repositories import sync as sync_repo
from inner_circle.server.repositories import tokens as tokens_repo
from inner_circle.server.repositories import users as users_repo
from inner_circle.server.services import chats as chat_service
from inner_circle.server.services.invites import redeem_invite, usable_invite
from inner_circle.server.services.views import user_out

__all__ = [
    "change_password",
    "deactivate_member",
    "get_member",
    "get_profile",
    "join_family",
    "list_members",
    "register_with_invite",
    "reset_password",
    "save_fcm_token",
    "set_admin",
    "update_profile",
]


async def register_with_invite(uows: UnitOfWorkFactory, body: RegisterIn) -> UserOut:
    """Create an account with an invitation code and put it in the family chat.

    Guarantees: the code's use, the account and the family-chat membership are one
    transaction. An admin code makes an admin. The code is checked first: without a
    usable code the answer is the same whatever the username (no way to list
    members), and no password is hashed. The password is hashed between a first look
    (code, username) and the transaction, which checks both again: a hash takes about
    0.1 s of CPU, and inside the transaction it held SQLite's only writer meanwhile.

    Raises:
        InvalidInvitation: the code is unknown, used up, expired or revoked.
        Conflict(USERNAME_TAKEN): the username exists (case-insensitively).
        Conflict(DISPLAY_NAME_TAKEN): the name shown (the display name, else the username)
            folds to another member's display name or username.

    Emits:
        ``userJoined`` (UserOut) to every active member; ``chatUpdated`` for the family
        chat to its members and ``chatCreated`` to the newcomer.
    """
    async with uows.read() as uow:
        await _require_joinable(uow, body)
    password_hash = await uows.ctx.passwords.hash(body.password)
    async with uows.write() as uow:
        out = await join_family(uow, body, password_hash)
        await uow.commit()
    return out


async def _require_joinable(uow: UnitOfWork, body: RegisterIn) -> InvitationCode:
    invite = await usable_invite(uow, body.invitation_code)
    if await users_repo.credentials(uow.session, body.username) is not None:
        raise Conflict("This username is already taken", ErrorCode.USERNAME_TAKEN)
    await _require_distinct_name(uow, usernames.shown_name(body.username, body.display_name), None)
    return invite


async def join_family(uow: UnitOfWork, body: RegisterIn, password_hash: str) -> UserOut:
    """:func:`register_with_invite`'s transaction, its checks made again, for a password
    already hashed."""
    invite = await _require_joinable(uow, body)
    now = uow.ctx.clock.now()
    draft = User(
        id=uuid.uuid4(),
        username=body.username,
        username_folded=usernames.fold(body.username),
        display_name=body.display_name,
        password_hash=password_hash,
        is_admin=invite.grants_admin,
        invitation_code=invite.code,
        is_active=True,
        token_version=0,
        created_at=now,
        updated_at=now,
    )
    user = await users_repo.insert_unless_taken(uow.session, draft)
    if user is None:  # a concurrent registration took the name first
        raise Conflict("This username is already taken", ErrorCode.USERNAME_TAKEN)
    redeem_invite(uow, invite, user.id)
    await uow.session.flush()
    family = await chat_service.ensure_family_chat(uow)
    await chats_repo.add_participants(
        uow.session, family.id, [user.id], joined_at=now, read_up_to=family.last_seq
    )
    out = user_out(user)
    sync_repo.record(uow.session, "user", now, user_id=user.id)
    everyone = await users_repo.active_ids(uow.session)
    uow.emit(ServerEvent.USER_JOINED, out, [uid for uid in everyone if uid != user.id])
    await chat_service.announce_chat(uow, family, created_for=[user.id])
    return out


async def get_profile(uow: UnitOfWork, actor: Actor) -> UserOut:
    user = await access_member(uow, actor, actor.id)
    return user_out(user, online=await uow.ctx.presence.is_online(user.id))


async def list_members(
    uow: UnitOfWork, actor: Actor, *, include_self: bool = False
) -> list[UserOut]:
    """Every member of the family (the seed's ``GET /users`` leaves the caller out)."""
    online = await uow.ctx.presence.online_user_ids()
    return [
        user_out(user, online=user.id in online)
        for user in await users_repo.list_all(uow.session)
        if include_self or user.id != actor.id
    ]


async def get_member(uow: UnitOfWork, actor: Actor, user_id: uuid.UUID) -> UserOut:
    user = await access_member(uow, actor, user_id)
    return user_out(user, online=await uow.ctx.presence.is_online(user.id))


async def update_profile(uow: UnitOfWork, actor: Actor, body: ProfileUpdateIn) -> UserOut:
    """Change the actor's own display name (already cleaned by ``ProfileUpdateIn``).

    Raises:
        Conflict(DISPLAY_NAME_TAKEN): it folds to another member's display name or username
            (their own username is fine: "anna" may call herself "Anna").

    Emits: ``userUpdated`` (UserOut) to every active member.
    """
    user = await access_member(uow, actor, actor.id)
    await _require_distinct_name(uow, body.display_name, user.id)
    user.display_name = body.display_name
    user.updated_at = uow.ctx.clock.now()
    out = user_out(user, online=await uow.ctx.presence.is_online(user.id))
    await _announce_user_change(uow, out)
    return out


async def change_password(uows: UnitOfWorkFactory, actor: Actor, body: PasswordChangeIn) -> None:
    """Change the actor's own password; every other session of theirs ends. Both hashes
    run outside the transaction (see :func:`register_with_invite`); the change is made
    only if the password checked is still the member's.

    Raises:
        ValidationFailed(WRONG_PASSWORD): the current password is wrong (a 400, not a
            401: the member's session is fine and clients must not sign out).
    """
    async with uows.read() as uow:
        checked = (await access_member(uow, actor, actor.id)).password_hash
    valid, _ = await uows.ctx.passwords.verify(body.current_password, checked)
    if not valid:
        raise ValidationFailed("The current password is wrong", ErrorCode.WRONG_PASSWORD)
    password_hash = await uows.ctx.passwords.hash(body.new_password)
    async with uows.write() as uow:
        user = await access_member(uow, actor, actor.id)
        if user.password_hash != checked:  # changed or reset while this one was checked
            raise ValidationFailed("The current password is wrong", ErrorCode.WRONG_PASSWORD)
        await _set_password(uow, user, password_hash)
        await uow.commit()


async def reset_password(
    uows: UnitOfWorkFactory, actor: Actor | None, user_id: uuid.UUID, body: PasswordResetIn
) -> None:
    """Set a member's password (admins; ``actor`` None is the operator's CLI). Ends their
    sessions. The hash runs before the transaction (see :func:`register_with_invite`).

    Raises:
        Forbidden(ADMIN_ONLY), NotFound.
    """
    async with uows.read() as uow:
        await _admin_target(uow, actor, user_id)  # refused or unknown: no hash
    password_hash = await uows.ctx.passwords.hash(body.new_password)
    async with uows.write() as uow:
        user = await _admin_target(uow, actor, user_id)
        await _set_password(uow, user, password_hash)
        await uow.commit()


async def deactivate_member(uow: UnitOfWork, actor: Actor | None, user_id: uuid.UUID) -> UserOut:
    """Deactivate a member: they can no longer log in, their sessions end, history stays.

    Raises:
        Forbidden(ADMIN_ONLY); Forbidden when an admin deactivates themselves; NotFound.

    Emits: ``userUpdated`` to every active member.
    """
    user = await _admin_target(uow, actor, user_id)
    if actor is not None and actor.id == user.id:
        raise Forbidden("You cannot deactivate yourself")
    now = uow.ctx.clock.now()
    user.is_active = False
    user.token_version += 1
    user.updated_at = now
    await tokens_repo.revoke_user(uow.session, user.id, now)
    out = user_out(user)
    await _announce_user_change(uow, out)
    uow.disconnect_user(user.id)
    return out


async def set_admin(
    uow: UnitOfWork, actor: Actor | None, user_id: uuid.UUID, is_admin: bool
) -> UserOut:
    """Grant or take away admin rights. Raises Forbidden(ADMIN_ONLY), NotFound."""
    user = await _admin_target(uow, actor, user_id)
    if actor is not None and actor.id == user.id and not is_admin:
        raise ValidationFailed("You cannot take away your own admin rights")
    user.is_admin = is_admin
    user.updated_at = uow.ctx.clock.now()
    out = user_out(user)
    await _announce_user_change(uow, out)
    return out


async def _announce_user_change(uow: UnitOfWork, out: UserOut) -> None:
    sync_repo.record(uow.session, "user", uow.ctx.clock.now(), user_id=out.id)
    uow.emit(ServerEvent.USER_UPDATED, out, await users_repo.active_ids(uow.session))


async def _require_distinct_name(uow: UnitOfWork, name: str, user_id: uuid.UUID | None) -> None:
    """Refuse a shown name that another member's name (display name or username, active or
    not: old messages still show them) folds to; a family has tens of members, so they are
    compared here rather than through an index over a derived column (plain rows, and each
    name folded once per process: at 500 members ORM objects and re-folding every name
    were most of a registration's time)."""
    wanted = name_key(name)
    for other_id, username, display_name in await users_repo.names(uow.session):
        if other_id == user_id:
            continue
        if wanted in {name_key(username), name_key(usernames.shown_name(username, display_name))}:
            raise Conflict(
                "Another member already goes by this name; choose a different display name",
                ErrorCode.DISPLAY_NAME_TAKEN,
            )


async def _admin_target(uow: UnitOfWork, actor: Actor | None, user_id: uuid.UUID) -> User:
    if actor is not None:
        require_admin(actor)
    user = await users_repo.by_id(uow.session, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def _set_password(uow: UnitOfWork, user: User, password_hash: str) -> None:
    now = uow.ctx.clock.now()
    user.password_hash = password_hash
    user.token_version += 1
    user.updated_at = now
    await tokens_repo.revoke_user(uow.session, user.id, now)
    uow.disconnect_user(user.id)


async def save_fcm_token(uow: UnitOfWork, actor: Actor, token: str) -> None:
    """Remember the device's FCM token for the actor's session (one per session, the newest
    wins). It is forgotten when the session ends: logout, theft detection, password change,
    reset or deactivation.

    Raises: ValidationFailed when the access token belongs to no session (issued before
    sessions existed: sign in again).
    """
    if actor.session_id is None:
        raise ValidationFailed("Sign in again to register this device for notifications")
    now = uow.ctx.clock.now()
    await tokens_repo.save_fcm_token(uow.session, actor.id, actor.session_id, token, now)
