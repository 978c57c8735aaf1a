"""The Python client SDK: ``InnerCircleClient`` and its typed errors."""

from inner_circle.sdk.client import InnerCircleClient
from inner_circle.sdk.errors import *  # noqa: F403
from inner_circle.sdk.errors import __all__ as _errors
from inner_circle.sdk.events import EventInbox

__all__ = ["EventInbox", "InnerCircleClient", *_errors]
