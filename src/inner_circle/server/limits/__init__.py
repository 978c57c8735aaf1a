"""Abuse limits: rate limits (memory or Redis counters) and the request body bound."""

from inner_circle.server.limits.backends import Bucket, Lockout, MemoryBackend, RedisBackend
from inner_circle.server.limits.body import BodySizeLimitMiddleware
from inner_circle.server.limits.policies import Limits, build_limits

__all__ = [
    "BodySizeLimitMiddleware",
    "Bucket",
    "Limits",
    "Lockout",
    "MemoryBackend",
    "RedisBackend",
    "build_limits",
]
