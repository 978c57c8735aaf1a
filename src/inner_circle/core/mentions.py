"""Which members a message mentions: ``@username`` or ``@Display Name`` tokens.

No I/O: the server passes the chat's members; a token names a member when its ``@`` does not
follow a letter or digit and it is followed by the end of the text or a character that cannot
continue a name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

__all__ = ["mentioned"]


def _ends_name(text: str, end: int) -> bool:
    return end >= len(text) or not (text[end].isalnum() or text[end] in "_.-")


def mentioned(text: str, members: Iterable[tuple[uuid.UUID, str, str]]) -> list[uuid.UUID]:
    """The ids of ``members`` (id, username, display name) that ``text`` mentions, in
    member order. Case-insensitive; ``@ann`` does not mention ann in ``@anna``."""
    if "@" not in text:
        return []
    folded = text.casefold()
    # An "@" inside a word (an e-mail address) starts no mention.
    starts = [
        i + 1
        for i, ch in enumerate(folded)
        if ch == "@" and (i == 0 or not (folded[i - 1].isalnum() or folded[i - 1] == "_"))
    ]
    found: list[uuid.UUID] = []
    for member_id, username, display_name in members:
        names = {n.casefold() for n in (username, display_name) if n}
        if any(
            folded.startswith(name, start) and _ends_name(folded, start + len(name))
            for start in starts
            for name in names
        ):
            found.append(member_id)
    return found
