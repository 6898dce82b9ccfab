"""Two sync workers against PostgreSQL at once: the same final state, and no operation applied twice."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import httpx
import pytest
from sferum_sandbox import DEFAULT_APP_ID, Sandbox
from sqlalchemy import Engine, func, select

from hookspecs.types import PersonKind
from sferum_plugin.account import Account
from sferum_plugin.models import SferumChat, SferumSyncOperation
from sferum_plugin.services import install
from sferum_plugin.services.sync import PassOptions, run_pass
from tests._db import PG_ENV_VAR, PG_SKIP_REASON, fresh_engine
from tests.plugin.fakes import FakeDatabase, FakeHost
from tests.sync.conftest import make_client
from tests.sync.world import World

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not os.environ.get(PG_ENV_VAR), reason=PG_SKIP_REASON)]


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    with fresh_engine(os.environ[PG_ENV_VAR]) as engine:
        install.install(engine)
        yield engine


def test_two_workers_at_once_apply_every_operation_exactly_once(pg_engine: Engine) -> None:
    box = Sandbox(rate_limit_per_second=None)
    host = FakeHost(db=FakeDatabase(pg_engine))
    with httpx.Client(transport=httpx.WSGITransport(app=box.wsgi_app)) as http:
        world = World(host=host, box=box, api=make_client(box, http), app_id=DEFAULT_APP_ID)
        for gid in range(1, 13):
            world.group(gid)
            for _ in range(6):
                world.person(PersonKind.STUDENT, group_id=gid)
            world.request("group", gid)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker(name: str) -> None:
            with httpx.Client(transport=httpx.WSGITransport(app=box.wsgi_app)) as own:
                api = make_client(box, own)
                try:
                    barrier.wait()
                    for full in (False, True, False):
                        run_pass(host.db, host.directory, api, account=Account("vk", DEFAULT_APP_ID),
                                 now=host.clock.now(), options=PassOptions(full=full, holder=name))  # fmt: skip
                except BaseException as error:
                    errors.append(error)

        threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        world.sync(full=True)
        assert len(box.state()["chats"]) == 12  # no chat created twice
        for pk in world.chat_pks():
            assert world.sferum_members(pk) == world.desired(pk)
        with host.db.session() as session:
            assert session.scalar(select(func.count()).where(SferumChat.state != "active")) == 0
            done = session.execute(
                select(
                    SferumSyncOperation.chat_pk,
                    SferumSyncOperation.sferum_user_id,
                    SferumSyncOperation.action,
                    func.count(),
                )
                .where(SferumSyncOperation.state == "done")
                .group_by(SferumSyncOperation.chat_pk, SferumSyncOperation.sferum_user_id, SferumSyncOperation.action)
            ).all()
        assert done
        assert all(count == 1 for *_, count in done)
        assert len(done) == 12 * 6
