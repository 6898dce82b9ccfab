"""The MAX side of ``SFERUM_PLATFORM=max make demo``: a MAX user in the MAX sandbox for every person of the demo
organisation, and the lines of the banner that say where the sandbox plays them.

In MAX the bot cannot look people up: a person becomes known to the module when they open the bot's deep link and
press Start. So the sandbox needs a MAX user for each person of the ЛК, whom the demo plays on the sandbox's page
``/_sandbox/as/<user_id>`` (open the deep link the ЛК shows, press Start, tap a chat button, leave a chat). Each MAX
user's username is derived from the person's record number (``S-ИВТ-21-01`` → ``s_ivt_21_01``), so that a second
run, or a sandbox restarted with its state file, finds them again instead of adding them twice.

It talks to the sandbox's control API only (``/_sandbox/state``, ``/_sandbox/control/add_user``), never to the Bot
API, so it needs no token.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lms_host.demo import DemoPerson

__all__ = ["PLAYED_ACCOUNTS", "banner_lines", "seed_max_users", "user_page"]

PLAYED_ACCOUNTS = ("student", "teacher")
"""The demo accounts whose MAX user pages the banner names (the other people are on ``/_sandbox/as``)."""


def user_page(sandbox_url: str, user_id: int) -> str:
    """The sandbox's page that plays MAX user ``user_id``."""
    return f"{sandbox_url}/_sandbox/as/{user_id}"


def _call(sandbox_url: str, path: str, payload: Mapping[str, Any] | None = None) -> Any:
    data = None if payload is None else json.dumps(payload).encode("utf-8")
    request = urllib.request.Request(
        f"{sandbox_url}{path}",
        data=data,
        method="GET" if data is None else "POST",
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def seed_max_users(sandbox_url: str, people: Iterable[DemoPerson]) -> dict[str, int]:
    """Give every person a MAX user in the sandbox at ``sandbox_url``, unless one with their username is there
    already; return record number -> MAX user id for everyone.

    :raises OSError: the sandbox did not answer (``urllib.error.URLError`` is one).
    """
    users = _call(sandbox_url, "/_sandbox/state")["users"]
    known = {user["username"]: int(user["user_id"]) for user in users if user.get("username")}
    found: dict[str, int] = {}
    for person in people:
        username = person.handle
        if username not in known:
            added = _call(
                sandbox_url,
                "/_sandbox/control/add_user",
                {"first_name": person.first_name, "last_name": person.surname, "username": username},
            )
            known[username] = int(added["result"])
        found[person.record_number] = known[username]
    return found


def banner_lines(sandbox_url: str, people: Sequence[DemoPerson], user_ids: Mapping[str, int]) -> list[str]:
    """Where the sandbox plays the demo's student and teacher in MAX, one line each, for the demo's banner."""
    lines = []
    for account in PLAYED_ACCOUNTS:
        person = next(person for person in people if person.username == account)
        label = f"MAX user «{account}»:"
        page = user_page(sandbox_url, user_ids[person.record_number])
        lines.append(f"{label:<22} {page}  ({person.first_name} {person.surname})")
    return lines
