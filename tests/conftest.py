"""Checks that hold for every test: each HTML page the example host serves to any test (the host's own pages and
the modules' pages in its layout) forbids framing and carries the Content-Security-Policy (see tests/_framing.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests._framing import host_page_problems

HOST_APP_NAME = "lms_host"


@pytest.fixture(autouse=True)
def host_pages_forbid_framing() -> Iterator[None]:
    """Fail the test if any page the host served it lacked the framing headers or the content policy."""
    from flask import request, request_finished

    found: list[str] = []
    lock = threading.Lock()  # the browser tests' live servers answer in their own threads

    def check(sender: Any, response: Any, **_: Any) -> None:
        if getattr(sender, "name", None) != HOST_APP_NAME or response.mimetype != "text/html":
            return
        problems = host_page_problems(response)
        if problems:
            with lock:
                found.append(f"{request.method} {request.path} ({response.status_code}): {', '.join(problems)}")

    request_finished.connect(check, weak=False)
    try:
        yield
    finally:
        request_finished.disconnect(check)
    assert found == [], "pages without the framing headers or the content policy"
