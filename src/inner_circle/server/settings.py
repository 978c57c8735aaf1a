"""Server configuration from the environment (``INNER_CIRCLE_`` prefix).

Settings are built once at the entry point and passed down; nothing reads the
environment at import time. The seed's own variables (``DATABASE_HOST`` ...,
``JWT_SECRET``, ``PORT``) are honoured too, so a seed deployment's environment
file works unchanged.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "load_settings"]

PLACEHOLDER_SECRETS = {
    "",
    "changethis",
    "secret",
    "super_secure_jwt_secret_256_bit",
    "your-secret-key",
}
MIN_SECRET_LENGTH = 32
# stun:/stuns:/turn:/turns: host (name, IPv4 or [IPv6]), optional port and transport (RFC 7064/7065).
ICE_URL = re.compile(
    r"^(stuns?|turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?"
    r"(\?transport=(udp|tcp))?$"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INNER_CIRCLE_", extra="ignore")

    mode: Literal["development", "production"] = "production"
    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    jwt_secret: str | None = None
    # Live sockets end when their access token expires (or extend it with ``reauth``).
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=2, le=30 * 24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=60 * 24 * 3600, ge=300)
    # A refresh token presented again this soon after its rotation, while the new one is
    # unused, is a retry whose answer was lost: it gets the same new pair, not a revocation.
    refresh_reuse_grace_seconds: float = Field(default=10.0, ge=0, le=300)
    cors_origins: Annotated[list[str], NoDecode] = []
    family_chat_name: str = "Family"
    # argon2id cost; the defaults are the OWASP-recommended ones. Lowered only by tests.
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    argon2_time_cost: int = Field(default=3, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
    # With Redis: a connection of a process that died stops counting as online after this.
    presence_ttl_seconds: float = Field(default=60.0, ge=1.0)
    log_level: str = "INFO"
    # "text" (readable) or "json" (one object a line, for log collectors); see docs/operations.md.
    log_format: Literal["text", "json"] = "text"
    # Prefix of this server's keys in Redis (rate-limit counters).
    redis_key_prefix: str = "inner-circle"
    # Bearer token /metrics asks for from anywhere; unset: /metrics answers loopback only.
    metrics_token: str | None = None
    # /docs and /redoc (Swagger UI and ReDoc load from a third-party CDN): None means on in
    # development mode, off in production. /openapi.json is always served.
    api_docs: bool | None = None
    # The HTTP server (inner-circle serve, also with --workers): open connections and
    # requests at once per process (more are answered 503), how long a client may take to
    # send a whole request (headers and body), how long an idle keep-alive connection stays.
    limit_concurrency: int = Field(default=2048, ge=1)
    request_read_timeout_seconds: float = Field(default=10.0, gt=0)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1)
    # Abuse limits (docs/operations.md). A limit set to 0 is off.
    rate_limits_enabled: bool = True
    max_request_bytes: int = Field(default=64 * 1024, ge=0)
    limit_login_free_attempts: int = Field(default=5, ge=0)
    limit_login_address_free_attempts: int = Field(default=20, ge=0)
    limit_invite_free_failures: int = Field(default=5, ge=0)
    limit_lockout_base_seconds: float = Field(default=1.0, ge=0)
    limit_lockout_max_seconds: float = Field(default=900.0, ge=0)
    limit_failure_window_seconds: float = Field(default=3600.0, gt=0)
    limit_register_burst: int = Field(default=30, ge=0)
    limit_register_per_minute: float = Field(default=30.0, ge=0)
    limit_message_burst: int = Field(default=20, ge=0)
    limit_message_per_second: float = Field(default=5.0, ge=0)
    # How long a client that signed in stays a known device (0: no known devices).
    limit_known_device_days: float = Field(default=90.0, ge=0)
    # Socket.IO bounds (docs/security.md): every event but sendMessage spends from a bucket
    # per connection; connections per member; seconds an Engine.IO session may stay
    # without joining the namespace; how often live sockets' grants are re-checked.
    limit_socket_event_burst: int = Field(default=200, ge=0)
    limit_socket_events_per_second: float = Field(default=20.0, ge=0)
    socket_max_per_member: int = Field(default=20, ge=0)
    socket_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    socket_revalidate_seconds: float = Field(default=1.0, gt=0, le=60)
    # Push notifications (docs/push.md). VAPID key: base64url raw P-256 private key, or
    # unset to have one generated in the data folder. Subject: mailto: or https: contact.
    push_vapid_private_key: str | None = None
    push_vapid_subject: str = "mailto:admin@inner-circle.invalid"
    # Tests only: lets push endpoints be plain http on loopback; refused in production.
    push_allow_loopback: bool = False
    push_workers: int = Field(default=4, ge=1, le=64)
    push_queue_size: int = Field(default=1000, ge=1)
    push_ttl_seconds: int = Field(default=24 * 3600, ge=0, le=28 * 24 * 3600)
    push_attempts: int = Field(default=3, ge=1, le=10)
    push_retry_base_seconds: float = Field(default=1.0, ge=0)
    push_timeout_seconds: float = Field(default=10.0, gt=0)
    push_max_subscriptions_per_member: int = Field(default=10, ge=1)
    # FCM HTTP v1 for the seed's app: a service-account JSON file; the send URL may be
    # overridden ({project_id} is filled in). Unset: FCM tokens are kept, nothing is sent.
    push_fcm_service_account_file: Path | None = None
    push_fcm_url: str = "https://fcm.googleapis.com/v1/projects/{project_id}/messages:send"
    # Calls (docs/calls.md): STUN/TURN URLs (comma-separated), coturn's static-auth-secret,
    # the lifetime of the TURN credentials handed out; ring time, the sweep that ends
    # unanswered calls, the longest call; initiations per member per minute.
    turn_urls: Annotated[list[str], NoDecode] = []
    turn_secret: str | None = None
    turn_ttl_seconds: int = Field(default=6 * 3600, ge=60, le=7 * 24 * 3600)
    stun_urls: Annotated[list[str], NoDecode] = []
    call_ring_seconds: float = Field(default=45.0, gt=0, le=600)
    call_sweep_seconds: float = Field(default=2.0, gt=0, le=60)
    call_max_seconds: float = Field(default=4 * 3600, gt=0)
    limit_call_burst: int = Field(default=10, ge=0)
    limit_calls_per_minute: float = Field(default=10.0, ge=0)
    limit_public_respond_burst: int = Field(default=10, ge=0)
    limit_public_respond_per_minute: float = Field(default=30.0, ge=0)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().startswith("["):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("turn_urls", "stun_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().startswith("["):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("turn_urls")
    @classmethod
    def _check_turn_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not ICE_URL.match(url) or url.startswith("stun"):
                raise ValueError(
                    f"INNER_CIRCLE_TURN_URLS: {url!r} is not a TURN URL; "
                    "write turn:host[:port][?transport=udp|tcp] or turns:host[:port]"
                )
        return value

    @field_validator("stun_urls")
    @classmethod
    def _check_stun_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not ICE_URL.match(url) or not url.startswith("stun"):
                raise ValueError(
                    f"INNER_CIRCLE_STUN_URLS: {url!r} is not a STUN URL; "
                    "write stun:host[:port] or stuns:host[:port]"
                )
        return value

    @model_validator(mode="after")
    def _check_turn_secret(self) -> Settings:
        if self.turn_urls and (not self.turn_secret or len(self.turn_secret) < 16):
            raise ValueError(
                "INNER_CIRCLE_TURN_URLS needs INNER_CIRCLE_TURN_SECRET (coturn's "
                "static-auth-secret, at least 16 characters)"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        return normalise_database_url(value) if value else value

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        if self.jwt_secret is None:
            return self
        if self.mode == "production" and (
            self.jwt_secret in PLACEHOLDER_SECRETS or len(self.jwt_secret) < MIN_SECRET_LENGTH
        ):
            raise ValueError(
                "JWT secret is a placeholder or shorter than 32 characters; "
                "unset it to have one generated in the data folder, or set a long random one"
            )
        return self

    @model_validator(mode="after")
    def _check_push_loopback(self) -> Settings:
        if self.push_allow_loopback and self.mode == "production":
            raise ValueError(
                "INNER_CIRCLE_PUSH_ALLOW_LOOPBACK is for tests only and is refused in "
                "production mode (push endpoints on loopback or plain http are an SSRF hole)"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL: explicit, else the seed's DATABASE_* variables, else SQLite."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'inner-circle.db').resolve()}"

    @property
    def api_docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.mode == "development"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def secret_key(self) -> str:
        """The JWT secret: configured, or generated once and kept in the data folder."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt-secret"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # private (db/files.py)
        value = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite://`` URLs and pick the async drivers."""
    for prefix, replacement in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(prefix):
            return replacement + url[len(prefix) :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ValueError(
        f"unsupported database URL {url.split('://')[0]}://...; "
        "use sqlite:///path/to/file.db or postgresql://user:password@host:port/name"
    )


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, the seed's variables, then explicit overrides."""
    seed: dict[str, object] = {}
    env = os.environ
    if "INNER_CIRCLE_JWT_SECRET" not in env and env.get("JWT_SECRET"):
        seed["jwt_secret"] = env["JWT_SECRET"]
    if "INNER_CIRCLE_PORT" not in env and env.get("PORT"):
        seed["port"] = env["PORT"]
    if "INNER_CIRCLE_DATABASE_URL" not in env and env.get("DATABASE_HOST"):
        user = quote(env.get("DATABASE_USER", "postgres"), safe="")
        password = env.get("DATABASE_PASSWORD")
        auth = f"{user}:{quote(password, safe='')}" if password else user
        seed["database_url"] = (
            f"postgresql+asyncpg://{auth}@{env['DATABASE_HOST']}:"
            f"{env.get('DATABASE_PORT', '5432')}/{env.get('DATABASE_NAME', 'inner_circle')}"
        )
    seed.update({key: value for key, value in overrides.items() if value is not None})
    return Settings(**seed)  # type: ignore[arg-type]
