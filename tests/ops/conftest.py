"""The hardening fixtures (servers with chosen settings, Redis) serve the operations tests too."""

from tests.security.conftest import redis_prefix, redis_url, start_server

__all__ = ["redis_prefix", "redis_url", "start_server"]
