"""The sandbox's HTML: the VK ID consent page, error pages and the inspection page.

Every value that comes from a request or from state goes through ``_e`` (``html.escape`` with quotes), so a
chat titled ``<script>`` shows as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}td,th{border:1px solid #ccc;"
    "padding:.3rem .5rem;text-align:left}fieldset{margin-bottom:1rem}.error{color:#a40000}"
    "button{padding:.4rem 1rem;margin-right:.5rem}"
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _document(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def error_page(title: str, message: str) -> str:
    """A page for a request that cannot go back to the client (unknown client_id, bad redirect_uri ...)."""
    return _document(title, f"<h1>{_e(title)}</h1><p class=error>{_e(message)}</p>")


def consent_page(*, app_title: str, scope: str, nonce: str, people: Iterable[tuple[int, str]], error: str = "") -> str:
    """The VK ID consent page: pick an existing Sferum profile or create an educational one, or cancel."""
    hidden = f'<input type="hidden" name="nonce" value="{_e(nonce)}">'
    choices = "".join(
        f'<label><input type="radio" name="user_id" value="{_e(uid)}"{" checked" if index == 0 else ""}> '
        f"{_e(name)} (id{_e(uid)})</label><br>"
        for index, (uid, name) in enumerate(people)
    )
    alert = f"<p class=error role=alert>{_e(error)}</p>" if error else ""
    body = (
        f"<h1>VK ID (Sferum sandbox)</h1><p>The application <b>{_e(app_title)}</b> asks for access "
        f"to your Sferum profile (scope: {_e(scope or 'default')}).</p>{alert}"
        f'<form method="post" action="/authorize">{hidden}<fieldset><legend>Sign in as</legend>{choices}'
        f'</fieldset><button type="submit" name="decision" value="allow">Allow</button></form>'
        f'<form method="post" action="/authorize">{hidden}<fieldset><legend>Create an educational profile'
        f'</legend><label>First name <input name="first_name" required maxlength="100"></label> '
        f'<label>Last name <input name="last_name" required maxlength="100"></label></fieldset>'
        f'<button type="submit" name="decision" value="create">Create profile and allow</button></form>'
        f'<form method="post" action="/authorize">{hidden}'
        f'<button type="submit" name="decision" value="cancel">Cancel</button></form>'
    )
    return _document("VK ID — allow access", body)


def _table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = "".join(f"<th>{_e(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def inspection_page(state: dict[str, Any], request_counts: dict[str, int]) -> str:
    """The ``/_sandbox/`` page: users, chats with their members, calls and request counts."""
    names = {user["id"]: f"{user['first_name']} {user['last_name']}" for user in state["users"]}
    chats = "".join(
        f"<h3>{_e(chat['title'])} (chat {_e(chat['chat_id'])}, peer {_e(chat['peer_id'])})</h3>"
        + _table(
            ["member", "name", "role", "invited by", "joined"],
            (
                [
                    member["member_id"],
                    names.get(member["member_id"], "?"),
                    "owner" if member["member_id"] == chat["owner_id"] else "admin" if member["is_admin"] else "member",
                    member["invited_by"],
                    member["join_date"],
                ]
                for member in chat["members"]
            ),
        )
        for chat in state["chats"]
    )
    calls = _table(
        ["call id", "owner", "state", "started", "finished"],
        ([c["call_id"], c["owner_id"], c["state"], c["started_at"], c["finished_at"] or ""] for c in state["calls"]),
    )
    body = (
        "<h1>Sferum sandbox</h1><h2>Chats</h2>"
        + (chats or "<p>No chats yet.</p>")
        + "<h2>Calls</h2>"
        + calls
        + "<h2>People</h2>"
        + _table(["id", "name"], ((uid, name) for uid, name in names.items()))
        + "<h2>API requests since reset</h2>"
        + _table(["method", "requests"], sorted(request_counts.items()))
    )
    return _document("Sferum sandbox", body)


def join_page(title: str, what: str) -> str:
    """What a person would see on opening a chat invite or a call link in Sferum."""
    return _document(title, f"<h1>{_e(title)}</h1><p>{_e(what)}</p>")
