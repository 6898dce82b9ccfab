"""``flask --app lms_host ...`` commands: init-db, demo-data, jobs and modules."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from hookspecs.types import SettingsField
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
@click.option(
    "--from-env",
    "env_prefix",
    metavar="PREFIX",
    help="Also read each setting KEY from the environment variable PREFIX+KEY in upper case (--from-env SFERUM_ "
    "reads app_token from SFERUM_APP_TOKEN; an empty variable counts as unset). Secrets are accepted only this way.",
)
def modules_configure(name: str, assignments: tuple[str, ...], env_prefix: str | None) -> None:
    """Set settings of module NAME: KEY=VALUE ... for plain values, --from-env PREFIX for secrets.

    Validated like the settings page; secrets are stored encrypted. A secret is never accepted as an argument: the
    command line of a running process is visible to every user of the machine (ps) and stays in shell history.
    """
    cabinet = current_cabinet()
    if not cabinet.settings.is_installed(name):
        _report(False, f"Module {name!r} is not installed.")
    fields = settings_fields(cabinet, name)
    values = _parse_assignments(assignments)
    problems = _secrets_in_arguments(name, fields, values)
    from_env: dict[str, str] = {}
    if env_prefix is not None:
        from_env, env_problems = _read_environment(name, fields, env_prefix, os.environ, given=values)
        problems.extend(env_problems)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        _report(False, "Nothing was saved.")
    outcome = submit_settings(cabinet, name, {**values, **from_env}, partial=True)
    if outcome.saved:
        sources = ", ".join(f"{key} from ${_variable(env_prefix or '', key)}" for key in sorted(from_env))
        click.echo(f"Settings of {name!r} saved" + (f" ({sources})." if sources else "."))
        return
    labels = {field.name: field.label for field in fields}
    for error in outcome.errors:
        click.echo(f"{error.field} ({labels.get(error.field, error.field)}): {error.message}", err=True)
    _report(False, "Nothing was saved.")


def _parse_assignments(assignments: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for position, assignment in enumerate(assignments, start=1):
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            # The argument itself is not repeated: it may be a token pasted without its key.
            raise click.BadParameter(
                f"expected KEY=VALUE, argument {position} after NAME is not", param_hint="ASSIGNMENTS"
            )
        values[key.strip()] = value
    return values


def _secrets_in_arguments(module: str, fields: Sequence[SettingsField], values: Mapping[str, str]) -> list[str]:
    """A refusal, naming the way to pass it, for every secret given as KEY=VALUE (its value is not repeated)."""
    example = f"{module.upper()}_"
    return [
        f"{field.name} ({field.label}): a secret is not accepted on the command line, where ps and shell history "
        f"show it. Put it in an environment variable named PREFIX{field.name.upper()} and pass --from-env PREFIX "
        f"(e.g. {_variable(example, field.name)} with --from-env {example})."
        for field in fields
        if field.secret and field.name in values
    ]


def _variable(prefix: str, key: str) -> str:
    return f"{prefix}{key.upper()}"


def _read_environment(
    module: str, fields: Sequence[SettingsField], prefix: str, environ: Mapping[str, str], *, given: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The settings of ``fields`` found as ``PREFIX<KEY>`` variables, and what is wrong with them."""
    found = {
        field.name: environ[_variable(prefix, field.name)]
        for field in fields
        if environ.get(_variable(prefix, field.name))
    }
    problems = [
        f"{key}: given both as an argument and in ${_variable(prefix, key)}; give it once."
        for key in sorted(found)
        if key in given
    ]
    if not found:
        looked_for = ", ".join(_variable(prefix, field.name) for field in fields)
        problems.append(
            f"--from-env {prefix}: no variable is set for a setting of {module!r} (looked for {looked_for})."
        )
    return found, problems


def register_cli(app: Flask) -> None:
    """Add the host's commands to ``app.cli``."""
    for command in (init_db_command, demo_data_command, jobs_command, modules_cli):
        app.cli.add_command(command)
