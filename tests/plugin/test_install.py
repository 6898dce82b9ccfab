from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from sferum_plugin.models import Base
from sferum_plugin.services import install


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_install_creates_the_module_tables_and_its_own_version_table(sqlite_engine: Engine) -> None:
    install.install(sqlite_engine)

    assert {"sferum_profile_links", "sferum_alembic_version"} <= _tables(sqlite_engine)
    assert "alembic_version" not in _tables(sqlite_engine)  # the host's version table stays the host's
    assert install.current_revision(sqlite_engine) == install.head_revision()


def test_module_tables_coexist_with_a_host_alembic_version_table(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('host_0042')"))

    install.install(sqlite_engine)
    install.uninstall(sqlite_engine, keep_data=False)

    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "host_0042"


def test_uninstall_keeping_data_leaves_rows_for_a_reinstall(sqlite_engine: Engine) -> None:
    install.install(sqlite_engine)
    with sqlite_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sferum_profile_links (platform, app_id, user_id, sferum_user_id, display_name, linked_at)"
                " VALUES ('vk', 1, 2, 3, 'x', '2026-11-29 10:00:00')"
            )
        )

    install.uninstall(sqlite_engine, keep_data=True)
    install.install(sqlite_engine)

    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM sferum_profile_links")).scalar_one() == 1


def test_uninstall_dropping_data_removes_every_module_table(sqlite_engine: Engine) -> None:
    install.install(sqlite_engine)

    install.uninstall(sqlite_engine, keep_data=False)

    assert not {t for t in _tables(sqlite_engine) if t.startswith("sferum_")}
    assert install.current_revision(sqlite_engine) is None


def test_every_migration_downgrades_and_upgrades_again(sqlite_engine: Engine) -> None:
    install.install(sqlite_engine)
    install.downgrade(sqlite_engine, "base")
    assert not {t for t in _tables(sqlite_engine) if t.startswith("sferum_") and t != "sferum_alembic_version"}
    install.upgrade(sqlite_engine)
    assert install.current_revision(sqlite_engine) == install.head_revision()


def test_models_match_the_newest_migration(sqlite_engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    install.install(sqlite_engine)
    with sqlite_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": install.VERSION_TABLE})
        assert compare_metadata(context, Base.metadata) == []
