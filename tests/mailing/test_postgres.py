"""The mailing on PostgreSQL: migrations, the whole flow, and two workers racing for one mailing."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, inspect

from hookspecs.types import JobContext
from sferum_plugin.services import install
from sferum_plugin.services.mailing import MailingDraft, create_mailing, resolve_audience, run_mailings
from tests._db import PG_ENV_VAR, PG_SKIP_REASON, fresh_engine
from tests.mailing.conftest import AUTHOR, make_host, policy, students

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not os.environ.get(PG_ENV_VAR), reason=PG_SKIP_REASON)]


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    with fresh_engine(os.environ[PG_ENV_VAR], pool_size=10) as engine:
        install.install(engine)
        yield engine


def test_migration_0004_downgrades_and_upgrades(pg_engine: Engine) -> None:
    assert {"sferum_mailings", "sferum_mailing_recipients"} <= set(inspect(pg_engine).get_table_names())
    install.downgrade(pg_engine, "0003")
    assert "sferum_mailings" not in inspect(pg_engine).get_table_names()
    install.upgrade(pg_engine)


def test_two_workers_at_once_send_every_message_exactly_once(pg_engine: Engine, smtp: Any) -> None:
    host = make_host(pg_engine, smtp.port, students(40))
    audience = resolve_audience(host, "students", [], {})
    assert audience is not None
    draft = MailingDraft(subject="Тема {name}", body="Текст", link_url="http://lms.test/x", audience_text="все")
    create_mailing(host, author=AUTHOR, audience=audience, draft=draft, now=host.clock.now())
    create_mailing(host, author=AUTHOR, audience=audience, draft=draft, now=host.clock.now())
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            run_mailings(JobContext(host=host, now=host.clock.now()), policy())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    received = Counter(recipient for recipients, _ in smtp.handler.messages for recipient in recipients)
    assert received == Counter({f"s{n}@example.org": 2 for n in range(1, 41)})  # two mailings, once each
