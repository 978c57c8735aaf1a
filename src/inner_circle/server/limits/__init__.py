"""Abuse limits: rate limits (memory or Redis counters). The body bound is ``http/body.py``."""

from inner_circle.server.limits.backends import Bucket, Lockout, MemoryBackend, RedisBackend
from inner_circle.server.limits.policies import Limits, build_limits

__all__ = [
    "Bucket",
    "Limits",
    "Lockout",
    "MemoryBackend",
    "RedisBackend",
    "build_limits",
]
