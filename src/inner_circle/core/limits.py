"""Bounds on what a member may send; the protocol models enforce them."""

USERNAME_MIN = 3
USERNAME_MAX = 32
PASSWORD_MIN = 6
PASSWORD_MAX = 128
DISPLAY_NAME_MAX = 64
CHAT_NAME_MAX = 100
MESSAGE_MAX = 4000
CLIENT_MESSAGE_ID_MAX = 64
ATTACHMENTS_MAX = 10  # files in one message
GROUP_MEMBERS_MAX = 200
PAGE_DEFAULT = 50
PAGE_MAX = 200
# The seed's ``offset`` paging makes the database step over every skipped message; deeper
# than this, clients page with ``before``/``after`` (keyset: the same cost at any depth).
PAGE_OFFSET_MAX = 10_000
INVITE_USES_MAX = 1000
SYNC_PAGE_DEFAULT = 500
SYNC_PAGE_MAX = 2000
# Positions and cursors a client sends must fit the database's integer columns
# (PostgreSQL INTEGER and BIGINT); larger ones are refused, not passed to the driver.
SEQ_MAX = 2**31 - 1
CURSOR_MAX = 2**63 - 1

# Rich messaging (ADR 14)
FORWARD_MESSAGES_MAX = 50  # messages in one forward
FORWARD_CHATS_MAX = 10  # chats one forward goes to
REACTIONS_PER_MEMBER_MAX = 10  # different emoji one member puts on one message
REPLY_PREVIEW_MAX = 120  # characters of the original a reply quotes

# Search (GET /search): characters of a query and results per page.
SEARCH_QUERY_MAX = 200
SEARCH_PAGE_DEFAULT = 20
SEARCH_PAGE_MAX = 50
