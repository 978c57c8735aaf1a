"""Base model: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

__all__ = ["UtcDatetime", "WireModel", "isoformat_z"]


def isoformat_z(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix and millisecond precision."""
    if value.tzinfo is not UTC:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # Every message carries several of these (a history page of 50: 100 or more), and
    # ``timespec="milliseconds"`` made this a quarter slower than cutting ``isoformat``'s
    # default form 'YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00' (the fraction only when non-zero).
    text = value.isoformat()
    return text[:23] + "Z" if len(text) == 32 else text[:19] + ".000Z"


UtcDatetime = Annotated[datetime, PlainSerializer(isoformat_z, return_type=str, when_used="json")]


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="ignore",
        str_strip_whitespace=False,
    )
