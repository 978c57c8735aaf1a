"""Access tokens: checked once, then only for expiry (``TokenService`` keeps the checked ones);
a cached token still expires on the second its ``exp`` names, and a changed one is checked
anew."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from inner_circle.core.errors import ErrorCode, Unauthenticated
from inner_circle.server import security
from inner_circle.server.security import VERIFIED_TOKENS_MAX, TokenService

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def service(access_ttl: int = 900) -> TokenService:
    return TokenService(SECRET, access_ttl=access_ttl, refresh_ttl=3600)


def refused(tokens: TokenService, token: str) -> bool:
    with pytest.raises(Unauthenticated) as raised:
        tokens.decode_access(token)
    return raised.value.code == ErrorCode.TOKEN_INVALID


def test_a_token_reads_back_its_claims_twice_alike() -> None:
    tokens = service()
    user, session = uuid.uuid4(), uuid.uuid4()
    token = tokens.issue_access(user, "anna", 3, datetime.now(UTC), session)
    for _ in range(2):
        claims = tokens.decode_access(token)
        assert (claims.user_id, claims.token_version, claims.session_id) == (user, 3, session)


def test_a_checked_token_is_refused_from_the_second_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = service(access_ttl=60)
    token = tokens.issue_access(uuid.uuid4(), "anna", 0, datetime.now(UTC))
    expires = tokens.decode_access(token).expires_at
    monkeypatch.setattr(security.time, "time", lambda: expires - 1)
    assert tokens.decode_access(token).expires_at == expires
    monkeypatch.setattr(security.time, "time", lambda: expires)
    assert refused(tokens, token)
    monkeypatch.setattr(security.time, "time", lambda: expires - 1)
    # Forgotten once refused: checked again in full (PyJWT's own clock says still valid).
    assert tokens.decode_access(token).expires_at == expires


def test_expired_changed_foreign_and_refresh_tokens_are_refused() -> None:
    tokens = service(access_ttl=60)
    user = uuid.uuid4()
    good = tokens.issue_access(user, "anna", 0, datetime.now(UTC))
    tokens.decode_access(good)
    head, payload, signature = good.split(".")
    changed = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert refused(tokens, changed)
    assert refused(tokens, f"{head}.{payload}")
    old = tokens.issue_access(user, "anna", 0, datetime.now(UTC) - timedelta(seconds=120))
    assert refused(tokens, old)
    foreign = TokenService("another-secret-that-is-long-enough-too", 60, 60)
    assert refused(tokens, foreign.issue_access(user, "anna", 0, datetime.now(UTC)))
    refresh = tokens.issue_refresh(
        "secret", user, "anna", datetime.now(UTC), datetime.now(UTC) + timedelta(hours=1)
    )
    assert refused(tokens, refresh)


def test_the_kept_tokens_are_bounded_and_an_evicted_one_is_checked_again() -> None:
    tokens = service()
    now = datetime.now(UTC)
    issued = [
        tokens.issue_access(uuid.uuid4(), f"m{i}", 0, now) for i in range(VERIFIED_TOKENS_MAX + 5)
    ]
    for token in issued:
        tokens.decode_access(token)
    assert len(tokens._verified) == VERIFIED_TOKENS_MAX
    assert issued[0] not in tokens._verified
    assert tokens.decode_access(issued[0]).expires_at > time.time()
