"""Watching a running server: metrics, structured logs, readiness and graceful shutdown."""
