"""Чаты: the viewer's native LK chats, or the chats of the chat backend chosen in the main module's settings.

While a backend chat type is chosen, native chats are hidden (kept in the database, shown again when the
administrator switches back to «Чаты ЛК»).
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from hookspecs.types import ChatSummary
from lms_host.auth import current_viewer, permission_required
from lms_host.cabinet import Cabinet, current_cabinet
from lms_host.host_modules import NATIVE_CHATS
from lms_host.i18n import gettext as _
from lms_host.models import Chat, ChatMember, ChatMessage
from lms_host.permissions import CHATS_USE

bp = Blueprint("chats", __name__)
logger = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 4000


def active_backend(cabinet: Cabinet) -> str | None:
    """The chosen chat backend if an installed module offers it, else ``None`` (native chats)."""
    chosen = cabinet.settings.get("main").get("chat_type", NATIVE_CHATS)
    if chosen == NATIVE_CHATS:
        return None
    offered = {backend.code for backend in cabinet.chat_backends()}
    return chosen if chosen in offered else None


@bp.route("/chats")
@permission_required(CHATS_USE)
def index() -> str:
    """The list of the viewer's chats."""
    cabinet = current_cabinet()
    viewer = current_viewer()
    assert viewer is not None
    backend = active_backend(cabinet)
    if backend is not None:
        unavailable = False
        try:
            summaries: list[ChatSummary] = list(
                cabinet.call("lms_chat_list", backend=backend, viewer=viewer, host=cabinet.host) or ()
            )
        except Exception:
            # The backend's plugin failed: say so on the page instead of failing it.
            logger.exception("chat backend %s failed to list the chats", backend)
            summaries, unavailable = [], True
        titles = {info.code: info.title for info in cabinet.chat_backends()}
        return render_template(
            "chats/backend.html",
            chats=summaries,
            unavailable=unavailable,
            backend_title=titles.get(backend, backend),
            actions=cabinet.section_actions("chats", viewer),
            menu_key="chats",
        )
    members = select(ChatMember.chat_id, func.count().label("members")).group_by(ChatMember.chat_id).subquery()
    with cabinet.db.session() as session:
        rows = session.execute(
            select(Chat, members.c.members)
            .join(ChatMember, ChatMember.chat_id == Chat.id)
            .join(members, members.c.chat_id == Chat.id)
            .where(ChatMember.user_id == viewer.user_id)
            .order_by(Chat.title)
        ).all()
    return render_template("chats/native.html", chats=rows, menu_key="chats")


def _native_chat_for_viewer(cabinet: Cabinet, chat_id: int) -> Chat:
    viewer = current_viewer()
    assert viewer is not None
    if active_backend(cabinet) is not None:
        abort(404)
    with cabinet.db.session() as session:
        chat = session.get(Chat, chat_id)
        member = session.get(ChatMember, (chat_id, viewer.user_id))
    if chat is None:
        abort(404)
    if member is None:
        abort(403)
    return chat


@bp.route("/chats/<id:chat_id>")
@permission_required(CHATS_USE)
def show(chat_id: int) -> str:
    """A native chat's messages and the form to post one."""
    cabinet = current_cabinet()
    chat = _native_chat_for_viewer(cabinet, chat_id)
    with cabinet.db.session() as session:
        messages = session.scalars(
            select(ChatMessage)
            .options(joinedload(ChatMessage.author))
            .where(ChatMessage.chat_id == chat_id)
            .order_by(ChatMessage.created_at, ChatMessage.id)
        ).all()
    return render_template("chats/chat.html", chat=chat, messages=messages, menu_key="chats")


@bp.post("/chats/<id:chat_id>/messages")
@permission_required(CHATS_USE)
def post_message(chat_id: int) -> Response:
    """Post a message to a native chat."""
    cabinet = current_cabinet()
    chat = _native_chat_for_viewer(cabinet, chat_id)
    viewer = current_viewer()
    assert viewer is not None
    body = request.form.get("body", "").strip()
    if not body:
        flash(_("Сообщение пустое."), "error")
    elif len(body) > MAX_MESSAGE_LENGTH:
        flash(_("Сообщение слишком длинное."), "error")
    else:
        with cabinet.db.session() as session:
            session.add(ChatMessage(chat_id=chat.id, author_id=viewer.user_id, body=body))
    return redirect(url_for("chats.show", chat_id=chat.id))
