"""Ids that are not ids: every route of the host and of the Sferum module, on SQLite and on PostgreSQL.

A path id is ASCII digits within the column's range or the page is not found (404); an id in a form or a query
string that is anything else refuses the request (400); nothing answers 5xx.  ``2**31`` overflows PostgreSQL's
``INTEGER``, ``2**63`` SQLite's; ``int()`` would read ``" 1"``, ``"+1"``, ``"1_0"`` and ``"١"`` as real ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet, create_app
from lms_host.demo import load_demo_data
from lms_host.numbers import parse_id
from werkzeug.routing import Rule

from tests.host.conftest import FakeClock, configure_sferum, csrf_token, login, post
from tests.host.people import fast_hash

HOSTILE = [
    str(2**31),  # one past PostgreSQL's INTEGER
    str(2**63),  # one past SQLite's INTEGER
    "-1",
    "+1",
    " 1",
    "1 ",
    "1_0",
    "١",  # ARABIC-INDIC DIGIT ONE: int() reads it as 1
    "1.0",
    "0x1",
    "9" * 400,
    "1" * 5000,  # longer than int() converts at all
    "0" * 40 + "1",
    "",
]
# For the routes without placeholders, only their forms and query strings are hostile: a sample of each kind.
FORM_HOSTILE = [str(2**31), str(2**63), "-1", " 1", "1_0", "١", "1" * 5000]

# A valid value for the placeholders that are not ids, so that each placeholder is tried on its own.
OTHER_PLACEHOLDERS = {"name": "sferum", "action": "pause", "section": "students", "filename": "style.css"}
# What a form or a query string may carry as an id, on any page of the host or the module.
ID_FIELDS = ("group_id", "unit_id", "members", "group_ids", "ids", "unit", "year", "group", "page", "week")
# Signing out would end the walk's own session.
SKIPPED = {"auth.logout"}


def _is_id(placeholder: str) -> bool:
    return placeholder.endswith(("_id", "_pk"))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def walked_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The host with the demo organisation and the Sferum module loaded by its entry point, installed and
    configured (pointing at the sandbox); one per database for the whole module."""
    from sferum_sandbox import Sandbox, serve

    folder = tmp_path_factory.mktemp("hostile")
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{folder / 'lms.sqlite3'}"
    with serve(Sandbox(rate_limit_per_second=None)) as sandbox:
        app = create_app({
            "TESTING": True, "LMS_INSTANCE_PATH": str(folder / "instance"), "LMS_DATABASE_URL": url,
            "LMS_SECRET_KEY": "test-secret-key", "LMS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "LOAD_ENTRYPOINTS": True, "NOW": FakeClock(),
        })  # fmt: skip
        try:
            result = app.test_cli_runner().invoke(args=["init-db"])
            assert result.exit_code == 0, result.output
            load_demo_data(Cabinet.of(app), hash_password=fast_hash)
            admin = app.test_client()
            assert login(admin, "admin").status_code == 302
            post(admin, "/admin/modules/sferum/install")
            configure_sferum(admin, sandbox.url)
            yield app
        finally:
            Cabinet.of(app).dispose()


def _rules(app: Flask) -> list[Rule]:
    return sorted((rule for rule in app.url_map.iter_rules() if rule.endpoint not in SKIPPED), key=str)


def _path(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with ``values`` in its placeholders, percent-encoded as a browser would send them."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: quote(values[m.group(1)], safe=""), rule.rule)


def _variants(rule: Rule) -> Iterator[tuple[str, str, str]]:
    """``(placeholder, hostile value, path)``: each placeholder hostile in turn, the others valid."""
    placeholders = sorted(rule.arguments)
    if not placeholders:
        for value in FORM_HOSTILE:
            yield "", value, rule.rule
        return
    for name in placeholders:
        for value in HOSTILE:
            values = {other: OTHER_PLACEHOLDERS.get(other, "1") for other in placeholders}
            values[name] = value
            yield name, value, _path(rule, values)


def _send(client: FlaskClient, method: str, path: str, value: str) -> Any:
    fields = dict.fromkeys(ID_FIELDS, value)
    if method == "GET":
        return client.get(f"{path}?{urlencode(fields)}")
    form = {**fields, "kind": "group", "scope": "selected", "title": "Чат", "step": "preview"}
    return client.post(path, data={**form, "csrf_token": csrf_token(client)})


def test_every_route_answers_hostile_ids_without_5xx_and_path_ids_with_404(walked_app: Flask) -> None:
    client = walked_app.test_client()
    login(client, "admin")
    server_errors: list[str] = []
    found: list[str] = []
    for rule in _rules(walked_app):
        for placeholder, value, path in _variants(rule):
            for method in sorted(rule.methods & {"GET", "POST"}):
                where = f"{method} {path[:80]} ({rule.endpoint}, {placeholder or 'form'}={value[:20]!r})"
                try:
                    status = _send(client, method, path, value).status_code
                except Exception as error:  # a testing app raises what would have been a 500
                    server_errors.append(f"{where}: {error!r}")
                    continue
                if status >= 500:
                    server_errors.append(f"{where}: {status}")
                elif _is_id(placeholder) and value and status != 404:
                    found.append(f"{where}: {status}")
    assert server_errors == []
    assert found == []
    assert client.get("/").status_code == 200  # the walk ran signed in as the administrator throughout


@pytest.mark.parametrize("raw", [raw for raw in HOSTILE if raw])
def test_the_host_reads_no_hostile_value_as_an_id(raw: str) -> None:
    assert parse_id(raw) is None


def test_the_host_reads_ascii_ids_up_to_the_integer_column() -> None:
    assert [parse_id(raw) for raw in ("0", "1", "42", str(2**31 - 1))] == [0, 1, 42, 2**31 - 1]


@pytest.mark.parametrize("raw", [" 1", "+1", "1_0", "١", str(2**31)])
def test_a_hostile_group_in_the_student_list_or_its_edit_form_is_refused(
    client: FlaskClient, seeded: Any, raw: str
) -> None:
    login(client, "admin")
    assert client.get(f"/students?{urlencode({'group': raw})}").status_code == 400
    refused = post(client, f"/students/{seeded.student_id}/edit", {"status": "active", "group": raw})
    assert refused.status_code == 400
    assert client.get(f"/students?{urlencode({'group': str(seeded.group_id)})}").status_code == 200


def test_a_group_filter_naming_no_group_selects_nobody(cabinet: Cabinet) -> None:
    from hookspecs.types import PersonKind

    assert cabinet.host.directory.list_people(PersonKind.STUDENT, {})  # the seeded students
    for raw in (" 1", "١", "+1", str(2**63)):
        assert cabinet.host.directory.list_people(PersonKind.STUDENT, {"group": raw}) == []


def test_a_hostile_id_in_a_form_of_the_module_refuses_the_request(walked_app: Flask) -> None:
    from lms_host.models import User
    from sqlalchemy import select

    with Cabinet.of(walked_app).db.session() as session:
        student_user = session.scalars(select(User.id).where(User.username == "student")).one()
    client = walked_app.test_client()
    login(client, "admin")
    answers = {}
    for raw in (" 1", "+1", "1_0", "١", str(2**31), str(2**63)):
        custom = {"kind": "custom", "title": "Кружок", "members": [str(student_user), raw]}
        answers[raw] = (
            post(client, "/m/sferum/chats/new", custom).status_code,
            post(client, "/m/sferum/chats/new", {"kind": "group", "title": "Группа", "group_id": raw}).status_code,
            post(client, "/m/sferum/chats-bulk", {"scope": "selected", "group_ids": raw}).status_code,
            client.get(f"/m/sferum/chats-bulk?{urlencode({'unit': raw})}").status_code,
            client.get(f"/m/sferum/chats-bulk?{urlencode({'year': raw})}").status_code,
        )
    assert answers == {raw: (400, 400, 400, 400, 400) for raw in answers}


def test_an_integer_setting_is_written_in_ascii_digits(app: Flask) -> None:
    from lms_host.settings_form import validate_generic

    from hookspecs.types import SettingsField

    field = SettingsField(name="port", label="Порт", type="integer")
    with app.test_request_context():
        refused = [raw for raw in ("١٢", "+5", "1_000", "1.0", "0x1", "²") if validate_generic([field], {"port": raw})]
        accepted = [raw for raw in ("0", "25", "-3") if not validate_generic([field], {"port": raw})]
    assert refused == ["١٢", "+5", "1_000", "1.0", "0x1", "²"]
    assert accepted == ["0", "25", "-3"]
