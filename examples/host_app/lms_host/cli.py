"""``flask --app lms_host ...`` commands: init-db, demo-data, jobs and modules."""

from __future__ import annotations

import threading

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from lms_host.cabinet import current_cabinet
from lms_host.database import upgrade_database
from lms_host.jobs import run_due_jobs, run_jobs_until
from lms_host.module_admin import install_module, module_states, uninstall_module, upgrade_module
from lms_host.settings_form import settings_fields, submit_settings

__all__ = ["register_cli"]

modules_cli = AppGroup("modules", help="Install, configure and uninstall plugin modules.")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the host's tables (idempotent)."""
    upgrade_database(current_cabinet().db.engine)
    click.echo("Database is up to date.")


@click.command("demo-data")
@with_appcontext
def demo_data_command() -> None:
    """Load (or refresh) the demo organisation: people, groups, lessons this week, chats."""
    from lms_host.demo import load_demo_data  # the demo data is large; load it only for this command

    summary = load_demo_data(current_cabinet())
    click.echo(summary)


@click.command("jobs")
@with_appcontext
@click.option("--once", "mode", flag_value="once", default=True, help="Run the due jobs once (default).")
@click.option("--loop", "mode", flag_value="loop", help="Keep running due jobs until interrupted.")
def jobs_command(mode: str) -> None:
    """Run the background jobs of the installed modules when they are due."""
    cabinet = current_cabinet()
    if mode == "loop":
        click.echo("Running background jobs; press Ctrl+C to stop.")
        try:
            run_jobs_until(cabinet, threading.Event())
        except KeyboardInterrupt:
            return
        return
    ran = run_due_jobs(cabinet)
    click.echo(f"Jobs run: {', '.join(ran) if ran else 'none due'}")


@modules_cli.command("list")
def modules_list() -> None:
    """List the modules and their state."""
    for state in module_states(current_cabinet()):
        status = "installed" if state.installed else "not installed"
        if state.needs_upgrade:
            status += f" (recorded {state.installed_version}, upgrade available)"
        if not state.available:
            status += " (plugin not available)"
        click.echo(f"{state.info.name}\t{state.info.version}\t{status}\t{state.info.title}")


def _report(ok: bool, message: str) -> None:
    click.echo(message)
    if not ok:
        raise click.exceptions.Exit(1)


@modules_cli.command("install")
@click.argument("name")
def modules_install(name: str) -> None:
    """Install module NAME."""
    outcome = install_module(current_cabinet(), name)
    _report(outcome.ok, outcome.message)


@modules_cli.command("upgrade")
@click.argument("name")
def modules_upgrade(name: str) -> None:
    """Upgrade module NAME to the installed plugin's version."""
    outcome = upgrade_module(current_cabinet(), name)
    _report(outcome.ok, outcome.message)


@modules_cli.command("uninstall")
@click.argument("name")
@click.option("--drop-data", is_flag=True, help="Also delete the module's data, settings and grants.")
def modules_uninstall(name: str, drop_data: bool) -> None:
    """Uninstall module NAME (its data is kept unless --drop-data)."""
    outcome = uninstall_module(current_cabinet(), name, keep_data=not drop_data)
    _report(outcome.ok, outcome.message)


@modules_cli.command("configure")
@click.argument("name")
@click.argument("assignments", nargs=-1)
def modules_configure(name: str, assignments: tuple[str, ...]) -> None:
    """Set settings of module NAME: KEY=VALUE ... (validated like the settings page; secrets encrypted)."""
    cabinet = current_cabinet()
    if not cabinet.settings.is_installed(name):
        _report(False, f"Module {name!r} is not installed.")
    values: dict[str, str] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {key!r}", param_hint="ASSIGNMENTS")
        values[key.strip()] = value
    outcome = submit_settings(cabinet, name, values, partial=True)
    if outcome.saved:
        click.echo(f"Settings of {name!r} saved.")
        return
    labels = {field.name: field.label for field in settings_fields(cabinet, name)}
    for error in outcome.errors:
        click.echo(f"{error.field} ({labels.get(error.field, error.field)}): {error.message}", err=True)
    _report(False, "Nothing was saved.")


def register_cli(app: Flask) -> None:
    """Add the host's commands to ``app.cli``."""
    for command in (init_db_command, demo_data_command, jobs_command, modules_cli):
        app.cli.add_command(command)
