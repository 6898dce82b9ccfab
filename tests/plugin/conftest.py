from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine

from tests.plugin.fakes import FakeDatabase, FakeHost


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'lms.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def host(sqlite_engine: Engine) -> FakeHost:
    return FakeHost(db=FakeDatabase(sqlite_engine))
