"""Background jobs run when due, only for installed modules, one process at a time."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.jobs import LEASE, run_due_jobs
from lms_host.models import JobRun

from tests.host.conftest import FakeClock, login, post
from tests.host.fake_plugin import FakePlugin


def _install(client: FlaskClient) -> None:
    login(client, "admin")
    post(client, "/admin/modules/fake/install")


def test_jobs_of_modules_that_are_not_installed_do_not_run(cabinet: Cabinet, fake_plugin: FakePlugin) -> None:
    assert run_due_jobs(cabinet) == []
    assert fake_plugin.calls["tick"] == []


def test_job_runs_when_due_and_not_before(
    client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin, clock: FakeClock
) -> None:
    _install(client)
    assert run_due_jobs(cabinet) == ["fake.tick"]
    assert fake_plugin.calls["tick"] == [cabinet.host.clock.now()]
    clock.current += timedelta(minutes=4)
    assert run_due_jobs(cabinet) == []
    clock.current += timedelta(minutes=1)
    assert run_due_jobs(cabinet) == ["fake.tick"]
    with cabinet.db.session() as session:
        row = session.get(JobRun, "fake.tick")
        assert row is not None
        assert row.lease_owner is None
        assert row.last_error == ""


def test_a_job_held_by_another_process_is_skipped_until_the_lease_expires(
    client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin, clock: FakeClock
) -> None:
    _install(client)
    now = cabinet.host.clock.now()
    with cabinet.db.session() as session:
        session.add(JobRun(job_name="fake.tick", lease_owner="other:1", lease_expires_at=now + LEASE, last_error=""))
    assert run_due_jobs(cabinet, owner="me") == []
    clock.current += LEASE + timedelta(seconds=1)
    assert run_due_jobs(cabinet, owner="me") == ["fake.tick"]


def test_failing_job_is_recorded_and_released(client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin) -> None:
    _install(client)

    def broken(context: object) -> None:
        raise ValueError("boom")

    fake_plugin.tick = broken  # type: ignore[method-assign]
    assert run_due_jobs(cabinet) == ["fake.tick"]
    with cabinet.db.session() as session:
        row = session.get(JobRun, "fake.tick")
        assert row is not None
        assert row.last_error == "ValueError"
        assert row.lease_owner is None


def test_web_process_runs_jobs_in_a_thread_when_asked(app_factory, fake_plugin: FakePlugin) -> None:  # type: ignore[no-untyped-def]
    first = app_factory()
    runner = first.test_cli_runner()
    assert runner.invoke(args=["modules", "install", "fake"]).exit_code == 0
    app = app_factory(LMS_RUN_JOBS="1")
    cabinet = Cabinet.of(app)
    assert cabinet.jobs_thread is None  # CLI commands create the same app: no jobs until a request is served
    app.test_client().get("/login")
    app.test_client().get("/login")
    thread = cabinet.jobs_thread
    assert thread is not None
    assert thread.daemon
    cabinet.dispose()  # stops the loop after its first round
    assert not thread.is_alive()
    assert len(fake_plugin.calls["tick"]) == 1
