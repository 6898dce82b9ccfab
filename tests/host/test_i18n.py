"""Russian source strings, English from translations/en.po, the language switch and the viewer's locale."""

from __future__ import annotations

from pathlib import Path

import lms_host
from babel.messages.extract import extract_from_dir
from flask.testing import FlaskClient
from lms_host.i18n import load_catalogs
from lms_host.permissions import HOST_PERMISSIONS, ROLE_TITLES
from lms_host.views.people import STATUS_TITLES

from tests.host.conftest import login, post
from tests.host.fake_plugin import FakePlugin

PACKAGE = Path(lms_host.__file__).resolve().parent


def _source_strings() -> set[str]:
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = extract_from_dir(str(PACKAGE), method_map, options, keywords={"_": None, "gettext": None})
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def test_every_host_string_has_an_english_translation() -> None:
    english = load_catalogs()["en"]
    dynamic = {*ROLE_TITLES.values(), *STATUS_TITLES.values(), *(p.title for p in HOST_PERMISSIONS)}
    dynamic |= {p.section for p in HOST_PERMISSIONS}
    strings = _source_strings() | dynamic
    assert len(strings) > 100
    missing = sorted(s for s in strings if english.gettext(s) == s and s not in {"E-mail"})
    assert missing == []


def test_language_switch_translates_pages_and_reaches_plugins(client: FlaskClient, fake_plugin: FakePlugin) -> None:
    admin = client.application.test_client()
    login(admin, "admin")
    post(admin, "/admin/modules/fake/install")
    login(client, "student")
    assert "Расписание" in client.get("/").get_data(as_text=True)
    response = post(client, "/locale", {"locale": "en", "next": "/schedule"})
    assert response.headers["Location"] == "/schedule"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Schedule" in page
    assert "Sign out" in page
    # Plugins see the language through the viewer and the host's translator.
    assert fake_plugin.calls["menu_locales"][-1] == ("en", "en")
    assert ("ru", "ru") in fake_plugin.calls["menu_locales"]


def test_chosen_language_is_remembered_for_the_user(client: FlaskClient) -> None:
    login(client, "student")
    post(client, "/locale", {"locale": "en"})
    post(client, "/logout")
    other = client.application.test_client()
    login(other, "student")
    assert "Sign out" in other.get("/").get_data(as_text=True)


def test_unknown_language_is_ignored(client: FlaskClient) -> None:
    login(client, "student")
    post(client, "/locale", {"locale": "de"})
    assert "Выйти" in client.get("/").get_data(as_text=True)
