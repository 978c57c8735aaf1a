"""Inner Circle: a self-hosted, invitation-only family messenger."""

__version__ = "0.1.0"
