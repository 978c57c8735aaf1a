"""Pure rules: invitation codes, settings, wire models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from inner_circle.core.invites import ALPHABET, generate_code, invite_status, normalise_code
from inner_circle.protocol.base import isoformat_z
from inner_circle.protocol.rest import RegisterIn, SendMessageIn
from inner_circle.server.settings import Settings, load_settings, normalise_database_url

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_codes_are_readable_and_random() -> None:
    codes = {generate_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4]
        assert all(ch in ALPHABET for ch in "".join(groups))


def test_typed_codes_are_normalised() -> None:
    assert normalise_code(" k7qm2xhpwn4r ") == "K7QM-2XHP-WN4R"
    assert normalise_code("k7qm-2xhp-wn4r") == "K7QM-2XHP-WN4R"
    assert normalise_code("family2024") == "FAMILY2024"


@pytest.mark.parametrize(
    ("used", "limit", "expires", "revoked", "expected"),
    [
        (0, 1, None, None, "active"),
        (1, 1, None, None, "used"),
        (1, 3, NOW + timedelta(days=1), None, "active"),
        (0, 1, NOW, None, "expired"),
        (0, 1, None, NOW, "revoked"),
        (5, 1, NOW - timedelta(days=1), NOW, "revoked"),
    ],
)
def test_invite_status(
    used: int, limit: int, expires: datetime | None, revoked: datetime | None, expected: str
) -> None:
    status = invite_status(
        used_count=used, usage_limit=limit, expires_at=expires, revoked_at=revoked, now=NOW
    )
    assert status == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), "2026-05-01T12:00:00.123Z"),
        # No fraction at all: isoformat() leaves it out, the wire keeps three digits.
        (datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC), "2026-05-01T12:00:00.000Z"),
        (datetime(2026, 5, 1, 12, 0, 0, 999, tzinfo=UTC), "2026-05-01T12:00:00.000Z"),
        (datetime(2026, 5, 1, 12, 0, 0, 999999, tzinfo=UTC), "2026-05-01T12:00:00.999Z"),
        # Naive values are UTC (the database's timestamps); others are converted.
        (
            datetime(2026, 5, 1, 12, 0, 0, 5000, tzinfo=UTC).replace(tzinfo=None),
            "2026-05-01T12:00:00.005Z",
        ),
        (
            datetime(2026, 5, 1, 2, 30, 0, 250000, tzinfo=timezone(timedelta(hours=-10))),
            "2026-05-01T12:30:00.250Z",
        ),
    ],
)
def test_times_are_served_as_utc_with_z(value: datetime, expected: str) -> None:
    assert isoformat_z(value) == expected


def test_blank_messages_are_invalid() -> None:
    with pytest.raises(ValidationError):
        SendMessageIn.model_validate(
            {"chatId": "6f1d7a4e-3b0c-4a8e-9d2f-1c2b3a4d5e6f", "content": " \n "}
        )


def test_register_accepts_seed_field_names() -> None:
    body = RegisterIn.model_validate(
        {"username": "anna", "password": "secret1", "invitationCode": "X"}
    )
    assert body.invitation_code == "X"


def test_placeholder_or_short_secrets_are_refused(tmp_path: Path) -> None:
    for secret in ("changethis", "short-secret", "super_secure_jwt_secret_256_bit"):
        with pytest.raises(ValidationError, match="JWT secret"):
            Settings(jwt_secret=secret, data_dir=tmp_path)
    Settings(jwt_secret="changethis", mode="development", data_dir=tmp_path)


def test_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = settings.secret_key()
    assert len(first) >= 48
    assert Settings(data_dir=tmp_path / "data").secret_key() == first
    assert oct((tmp_path / "data" / "jwt-secret").stat().st_mode & 0o777) == "0o600"


def test_seed_environment_variables_are_honoured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_HOST", "db.local")
    monkeypatch.setenv("DATABASE_PORT", "5433")
    monkeypatch.setenv("DATABASE_USER", "messenger")
    monkeypatch.setenv("DATABASE_PASSWORD", "p@ss word")
    monkeypatch.setenv("DATABASE_NAME", "messenger_production")
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    monkeypatch.setenv("PORT", "4000")
    settings = load_settings(data_dir=tmp_path)
    assert settings.resolved_database_url == (
        "postgresql+asyncpg://messenger:p%40ss%20word@db.local:5433/messenger_production"
    )
    assert settings.port == 4000
    assert settings.secret_key() == "s" * 40


def test_database_urls_are_normalised() -> None:
    assert normalise_database_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    with pytest.raises(ValueError, match="unsupported database URL"):
        normalise_database_url("mysql://u@h/db")


def test_cors_origins_from_a_comma_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INNER_CIRCLE_CORS_ORIGINS", "https://a.example, https://b.example")
    assert load_settings(data_dir=tmp_path).cors_origins == [
        "https://a.example",
        "https://b.example",
    ]
