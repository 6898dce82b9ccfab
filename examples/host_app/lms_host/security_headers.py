"""Headers every response carries: no page may be framed by another site, and pages run under a
Content-Security-Policy that allows scripts and styles from this site's files only.

No template has inline scripts, inline event handlers or ``style`` attributes (the modules' templates included:
their pages are rendered inside the host's layout).  Behaviour is wired by data attributes that ``static/lms.js``
handles, e.g. ``data-confirm="…"`` on a form or a submit button asks before submitting.  ``form-action`` is left
open: a module's form may answer with a redirect to another site (VK ID, a Sferum call).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

__all__ = ["CONTENT_SECURITY_POLICY", "init_security_headers"]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)


def _add_headers(response: Response) -> Response:
    # Set, not defaulted: a module's response cannot loosen the host's policy.
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_security_headers(app: Flask) -> None:
    """Add the headers to every response of ``app`` (error pages included)."""
    app.after_request(_add_headers)
