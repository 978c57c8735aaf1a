"""Bounds on what a member may send; the protocol models enforce them."""

USERNAME_MIN = 3
USERNAME_MAX = 32
PASSWORD_MIN = 6
PASSWORD_MAX = 128
DISPLAY_NAME_MAX = 64
CHAT_NAME_MAX = 100
MESSAGE_MAX = 4000
CLIENT_MESSAGE_ID_MAX = 64
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
# Search (GET /search): characters of a query and results per page.
SEARCH_QUERY_MAX = 200
SEARCH_PAGE_DEFAULT = 20
SEARCH_PAGE_MAX = 50
