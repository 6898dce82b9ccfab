"""The MAX sandbox's HTML: the overview at ``/_sandbox/`` and the page that plays one MAX user.

Plain HTML forms (POST, then a redirect), a stylesheet served from ``/_sandbox/style.css``, no scripts and no inline
styles, so that the pages satisfy the strict Content-Security-Policy the app sends with them (:data:`CSP`). Every
value that comes from a request or from state goes through ``_e`` (``html.escape`` with quotes).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

STYLESHEET = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}td,th{border:1px solid #ccc;"
    "padding:.3rem .5rem;text-align:left;vertical-align:top}.error{color:#a40000}.notice{color:#185c18}"
    "button,.button{padding:.35rem .9rem;margin:.15rem .4rem .15rem 0;display:inline-block}"
    "form.inline{display:inline}.message{border:1px solid #ccc;border-radius:.5rem;padding:.6rem .8rem;"
    "margin:.6rem 0}.text{white-space:pre-wrap}.muted{color:#666}input[type=text]{width:100%;max-width:40rem}"
)

NOTICES = {
    "started": "You pressed Start: the bot got bot_started.",
    "tapped": "You tapped the chat button.",
    "left": "You left the chat.",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _document(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<link rel="stylesheet" href="/_sandbox/style.css"></head><body>{body}</body></html>'
    )


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A table; the cells are HTML already (escape values before)."""
    head = "".join(f"<th>{_e(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _names(state: dict[str, Any]) -> dict[int, str]:
    names = {u["user_id"]: " ".join(filter(None, (u["first_name"], u["last_name"]))) for u in state["users"]}
    names[state["bot"]["user_id"]] = f"{state['bot']['title']} (bot)"
    return names


def _role(member: dict[str, Any]) -> str:
    if member["is_bot"]:
        return "bot, administrator" if member["is_admin"] else "bot"
    return "owner" if member["is_owner"] else "administrator" if member["is_admin"] else "member"


def overview_page(state: dict[str, Any], request_counts: dict[str, int]) -> str:
    """``/_sandbox/``: the bot, people, chats with members, events, and requests since the last reset."""
    bot = state["bot"]
    names = _names(state)
    people = _table(
        ["id", "name", "username", "started the bot", "privacy", ""],
        (
            [
                _e(u["user_id"]),
                _e(names[u["user_id"]]),
                _e(u["username"] or ""),
                "yes" if u["started_bot"] else "no",
                "refuses being added" if u["refuses_adds"] else "",
                f'<a href="/_sandbox/as/{_e(u["user_id"])}">act as this user</a>',
            ]
            for u in state["users"]
        ),
    )
    chats = "".join(
        f"<h3>{_e(chat['title'])} <span class=muted>(chat {_e(chat['chat_id'])}, bot {_e(chat['status'])}"
        f"{', administrator' if chat['bot_is_admin'] else ''})</span></h3>"
        + _table(
            ["member", "name", "role", "joined (ms)"],
            (
                [_e(m["user_id"]), _e(names.get(m["user_id"], "?")), _e(_role(m)), _e(m["join_time"])]
                for m in chat["members"]
            ),
        )
        for chat in state["chats"]
    )
    sub = state["subscription"]
    events = (
        f"<p>Webhook: <b>{_e(sub['url'])}</b>{' with a secret' if sub['has_secret'] else ''}; "
        f"{len(state['webhook']['pending'])} update(s) waiting for delivery.</p>"
        if sub
        else f"<p>No webhook: long polling. {len(state['updates']['waiting'])} update(s) not read yet.</p>"
    )
    log = _table(
        ["event", "update", "attempt", "status"],
        (
            [_e(entry["event"]), _e(entry.get("update_type", "")), _e(entry.get("attempt", "")),
             _e(entry.get("status", entry.get("reason", "")))]
            for entry in state["webhook"]["log"][-20:]
        ),
    )  # fmt: skip
    choose = (
        '<form method="get" action="/_sandbox/as"><label>Act as <select name="user_id">'
        + "".join(f'<option value="{_e(u["user_id"])}">{_e(names[u["user_id"]])}</option>' for u in state["users"])
        + "</select></label> <button type=submit>Open</button></form>"
    )
    body = (
        f"<h1>MAX sandbox</h1><p>Bot <b>{_e(bot['title'])}</b> (@{_e(bot['name'])}, id {_e(bot['user_id'])}); "
        f"deep links: <code>{_e(bot['deep_link'])}?start=…</code></p>{choose}"
        f"<h2>People</h2>{people}<h2>Chats</h2>{chats or '<p>No chats yet.</p>'}"
        f"<h2>Events</h2>{events}{log}<h2>Bot API requests since reset</h2>"
        + _table(["operation", "requests"], ([_e(op), _e(n)] for op, n in sorted(request_counts.items())))
    )
    return _document("MAX sandbox", body)


def _button_html(user_id: int, message: dict[str, Any], button: dict[str, Any], chats: dict[int, str]) -> str:
    kind, text = button.get("type"), button.get("text", "")
    if kind == "chat":
        created = message["created_chats"].get(str(button["uuid"]))
        note = f" <span class=muted>(opens «{_e(chats.get(created, '?'))}»)</span>" if created is not None else ""
        return (
            f'<form class=inline method="post" action="/_sandbox/as/{_e(user_id)}/tap">'
            f'<input type="hidden" name="message_id" value="{_e(message["mid"])}">'
            f'<input type="hidden" name="uuid" value="{_e(button["uuid"])}">'
            f'<button type="submit">{_e(text)}</button></form>{note}'
        )
    if kind == "link" and str(button.get("url", "")).startswith(("https://", "http://")):
        return f'<a class=button href="{_e(button["url"])}" rel="noopener noreferrer">{_e(text)}</a>'
    return f"<span class=button>{_e(text)}</span>"


def user_page(state: dict[str, Any], user_id: int, *, notice: str = "", error: str = "") -> str:
    """``/_sandbox/as/<user_id>``: what this MAX user sees of the bot, and what they can do."""
    names = _names(state)
    bot = state["bot"]
    name = names[user_id]
    chat_titles = {chat["chat_id"]: chat["title"] for chat in state["chats"]}
    messages = [m for m in state["messages"] if m["user_id"] == user_id]
    message_html = "".join(
        f'<div class=message id="{_e(m["mid"])}"><div class=text>{_e(m["text"] or "")}</div>'
        + "".join(
            "<div>" + "".join(_button_html(user_id, m, button, chat_titles) for button in row) + "</div>"
            for row in m["buttons"]
        )
        + "</div>"
        for m in messages
    )
    mine = [(chat, member) for chat in state["chats"] for member in chat["members"] if member["user_id"] == user_id]
    chats_html = _table(
        ["chat", "your role", "members", ""],
        (
            [
                _e(chat["title"]),
                _e(_role(member)),
                _e(len(chat["members"])),
                f'<form class=inline method="post" action="/_sandbox/as/{_e(user_id)}/leave">'
                f'<input type="hidden" name="chat_id" value="{_e(chat["chat_id"])}">'
                '<button type="submit">Leave chat</button></form>',
            ]
            for chat, member in mine
        ),
    ) if mine else "<p>You are in no group chat.</p>"  # fmt: skip
    alert = (f'<p class=error role="alert">{_e(error)}</p>' if error else "") + (
        f'<p class=notice role="status">{_e(notice)}</p>' if notice else ""
    )
    body = (
        f'<p><a href="/_sandbox/">← MAX sandbox</a></p><h1>{_e(name)} in MAX</h1>{alert}'
        f"<h2>Open a deep link</h2>"
        f'<form method="post" action="/_sandbox/as/{_e(user_id)}/start"><label>Link '
        f'<input type="text" name="link" placeholder="{_e(bot["deep_link"])}?start=…" '
        f'value="{_e(bot["deep_link"])}"></label> <button type="submit">Start</button></form>'
        f"<h2>Messages from {_e(bot['title'])}</h2>{message_html or '<p>No messages from the bot.</p>'}"
        f"<h2>Your chats</h2>{chats_html}"
    )
    return _document(f"{name} — MAX sandbox", body)


def not_found_page(what: str) -> str:
    return _document("Not found", f"<h1>Not found</h1><p class=error>{_e(what)}</p>")
