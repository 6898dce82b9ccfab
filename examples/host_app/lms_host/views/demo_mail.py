"""«Почта (демо)»: in demo mode only, administrators see the messages the demo SMTP server has received."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

from lms_host.auth import admin_required
from lms_host.demo.smtp_sink import read_folder

__all__ = ["bp", "mail_folder"]

bp = Blueprint("demo_mail", __name__)


def mail_folder() -> Path:
    """Where ``make demo``'s SMTP server stores what it receives: ``<instance>/mail``."""
    return Path(current_app.instance_path) / "mail"


@bp.route("/admin/demo-mail")
@admin_required
def messages() -> str:
    """The received messages, newest first (404 outside demo mode)."""
    if not current_app.config["LMS_DEMO_MODE"]:
        abort(404)
    return render_template("admin/demo_mail.html", messages=read_folder(mail_folder()), menu_key="admin")
