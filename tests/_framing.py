"""What every HTML page of the example host must carry: no framing, and a Content-Security-Policy that allows no
inline script or style and no other origin's script.  Used by ``tests/conftest.py`` on every page any test gets."""

from __future__ import annotations

from typing import Any

__all__ = ["host_page_problems", "policy_directives"]


def policy_directives(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as ``{directive: [sources]}``."""
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    return directives


def host_page_problems(response: Any) -> list[str]:
    """What the response lacks of the host's framing and content policy (``[]`` when nothing)."""
    problems = []
    if response.headers.get("X-Frame-Options") != "DENY":
        problems.append("X-Frame-Options is not DENY")
    policy = policy_directives(response.headers.get("Content-Security-Policy", ""))
    if policy.get("frame-ancestors") != ["'none'"]:
        problems.append("no frame-ancestors 'none'")
    for kind in ("script-src", "style-src"):
        sources = policy.get(kind, policy.get("default-src"))
        if sources is None:
            problems.append(f"no {kind} (nor default-src)")
        elif set(sources) - {"'self'"}:
            problems.append(f"{kind} allows more than 'self': {sources}")
    if policy.get("object-src") != ["'none'"]:
        problems.append("no object-src 'none'")
    return problems
