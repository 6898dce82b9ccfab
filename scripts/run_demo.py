"""`make demo`: migrate and fill a SQLite database, start the Sferum sandbox and the example host, print the URLs.

Everything runs on 127.0.0.1. Ctrl-C (or SIGTERM) stops the servers. Ports: LMS_PORT (default 8000) for the host,
SFERUM_SANDBOX_PORT (default 8001) for the sandbox, LMS_SMTP_PORT (default 8025) for a local SMTP server that keeps
every message it receives as an ``.eml`` file in the host's instance folder (``<instance>/mail``), listed on
Администрирование → «Почта (демо)». LMS_INSTANCE_PATH moves the instance folder; SFERUM_PLATFORM picks the
platform and its sandbox: ``vk`` (the default, Sferum in VK Messenger) or ``max`` (Sferum in MAX: the MAX sandbox,
the module set to MAX with events by long polling, and a MAX user in the sandbox for every person of the demo
organisation; the banner names the sandbox's pages that play the demo student and teacher in MAX).

The sandbox and the host run under ``process_supervisor.Supervisor``; their output is forwarded as ``name | line``,
and the demo's own messages start with ``==>``. When the sandbox dies, the demo says so (exit code or signal, and
its last lines) and starts it again: its ``--state`` file keeps its people, chats and calls. A sandbox that dies
5 times within a minute is left dead, with a message, while the LMS keeps running. When the LMS dies, the demo says
so and stops everything with status 1.

No token is on a command line (every user of the machine sees those in ``ps``) or printed: the sandbox reads its
tokens from its environment, and ``flask modules configure --from-env`` reads the module's secrets from
``DEMO_SFERUM_*`` variables set for that one command. Each platform's sandbox keeps its own state file, and the
LMS database is shared: the module's settings of both platforms are kept, and each run chooses its platform.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import demo_max
from process_supervisor import Service, Supervisor, SupervisorError

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# The sandbox's demo organisation. These are not secrets: they only open the local sandbox. They are still handled
# as secrets are, so that the demo shows the way.
DEMO_APP_ID = "51234567"
DEMO_SERVICE_TOKEN = "sandbox-service-token-0123456789abcdef"
DEMO_APP_TOKEN = "sandbox-app-token-0123456789abcdef0123"
DEMO_MAX_BOT_TOKEN = "max-sandbox-demo-bot-token-0123456789abcdef"

# `flask modules configure --from-env SECRETS_PREFIX` reads the module's secret KEY from SECRETS_PREFIX + KEY.upper().
SECRETS_PREFIX = "DEMO_SFERUM_"


@dataclass(frozen=True)
class DemoPlatform:
    """How the demo runs one platform's sandbox and points the Sferum module at it.

    :param sandbox_args: ``sferum-sandbox`` arguments: the subcommand and its options (never a token).
    :param sandbox_secrets: the sandbox's environment variables that carry its tokens.
    :param ready_path: a path the sandbox answers once it is up.
    :param state_file: the sandbox's ``--state`` file, in the instance folder.
    :param module_settings: the module's plain settings, given the sandbox's base URL.
    :param module_secrets: the module's secret settings (passed through the environment).
    :param title: how the banner names the sandbox.
    :param about: what the banner adds on the module's settings.
    :param prepare: run once the sandbox first answers, with its base URL: fills it with what the demo needs (once:
        a second run finds it there) and returns lines for the banner.
    """

    sandbox_args: tuple[str, ...]
    sandbox_secrets: Mapping[str, str] = field(repr=False)
    ready_path: str
    state_file: str
    module_settings: Callable[[str], dict[str, str]]
    module_secrets: Mapping[str, str] = field(repr=False)
    title: str = "Sferum sandbox"
    about: str = ""
    prepare: Callable[[str], Sequence[str]] = lambda url: ()


def _prepare_max(sandbox_url: str) -> list[str]:
    """A MAX user for every person of the demo organisation; the banner's lines for the demo student and teacher."""
    from lms_host.demo import demo_people

    people = demo_people()
    user_ids = demo_max.seed_max_users(sandbox_url, people)
    return demo_max.banner_lines(sandbox_url, people, user_ids)


PLATFORMS: dict[str, DemoPlatform] = {
    "vk": DemoPlatform(
        sandbox_args=("vk", "--app-id", DEMO_APP_ID),
        sandbox_secrets={
            "SFERUM_SANDBOX_SERVICE_TOKEN": DEMO_SERVICE_TOKEN,
            "SFERUM_SANDBOX_APP_TOKEN": DEMO_APP_TOKEN,
        },
        ready_path="/_sandbox/state",
        state_file="sandbox-state.json",
        module_settings=lambda url: {
            "platform": "vk",
            "app_id": DEMO_APP_ID,
            "api_base_url": url,
            "id_base_url": url,
            "web_url": f"{url}/_sandbox/",
        },
        module_secrets={"service_token": DEMO_SERVICE_TOKEN, "app_token": DEMO_APP_TOKEN},
    ),
    # MAX posts webhooks to https addresses only, so the demo's module asks for its events (long polling).
    "max": DemoPlatform(
        sandbox_args=("max",),
        sandbox_secrets={"SFERUM_SANDBOX_BOT_TOKEN": DEMO_MAX_BOT_TOKEN},
        ready_path="/_sandbox/state",
        state_file="max-sandbox-state.json",
        module_settings=lambda url: {"platform": "max", "max_api_url": url, "max_updates": "polling"},
        module_secrets={"max_bot_token": DEMO_MAX_BOT_TOKEN},
        title="MAX sandbox",
        about="platform «MAX», its events by long polling",
        prepare=_prepare_max,
    ),
}
"""SFERUM_PLATFORM -> how to run its sandbox; another platform is one more entry."""


def _flask(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "lms_host", *args], env=dict(env), text=True, capture_output=True, check=False
    )


def _must(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        sys.stderr.write(f"{what} failed:\n{result.stdout}{result.stderr}")
        raise SystemExit(1)


def _answers(url: str) -> Callable[[], bool]:
    """A readiness probe: whether ``url`` answers at all."""

    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            return False

    return probe


def _configure_module(env: Mapping[str, str], platform: DemoPlatform, sandbox_url: str) -> None:
    installed = _flask(env, "modules", "install", "sferum")
    if installed.returncode != 0 and "уже установлен" not in installed.stdout + installed.stderr:
        _must(installed, "modules install sferum")
    secrets = {f"{SECRETS_PREFIX}{key.upper()}": value for key, value in platform.module_secrets.items()}
    settings = [f"{key}={value}" for key, value in platform.module_settings(sandbox_url).items()]
    configured = _flask({**env, **secrets}, "modules", "configure", "sferum", "--from-env", SECRETS_PREFIX, *settings)
    _must(configured, "modules configure sferum")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _sandbox_service(name: str, platform: DemoPlatform, url: str, instance: Path, env: Mapping[str, str]) -> Service:
    """The sandbox: restarted when it dies, its state kept in the instance folder; its tokens in its environment."""
    port = url.rsplit(":", 1)[1]
    options = ["--host", "127.0.0.1", "--port", port, "--state", str(instance / platform.state_file)]
    return Service(
        name=f"sandbox-{name}",
        command=[str(BIN / "sferum-sandbox"), *platform.sandbox_args, *options],
        env={**env, **platform.sandbox_secrets},
        ready=_answers(f"{url}{platform.ready_path}"),
        restart=True,
    )


def _lms_service(url: str, env: Mapping[str, str]) -> Service:
    """The example host: when it dies, the demo stops."""
    port = url.rsplit(":", 1)[1]
    return Service(
        name="lms",
        command=[str(BIN / "flask"), "--app", "lms_host", "run", "--host", "127.0.0.1", "--port", port],
        env=env,
        ready=_answers(f"{url}/login"),
        restart=False,
    )


def _banner(platform: DemoPlatform, lms_url: str, sandbox_url: str, prepared: Sequence[str], smtp_port: int,
            instance: Path) -> str:  # fmt: skip
    extra = "".join(f"  {line}\n" for line in prepared)
    about = f" ({platform.about})" if platform.about else ""
    return f"""
The demo is running.
  LMS personal cabinet:  {lms_url}/
  {platform.title + ":":<22} {sandbox_url}/_sandbox/
{extra}  Demo mail (SMTP):      127.0.0.1:{smtp_port}, messages in {instance / "mail"} and on {lms_url}/admin/demo-mail
Demo accounts (password "demo"): admin, teacher, student, employee.
The module «Модуль интеграции Сферум-Тандем» is installed and configured against the sandbox{about}.
The servers' output is shown as "name | line"; the demo's own messages start with "==>". If the sandbox dies, it is
started again with its state; if the LMS dies, the demo stops.
Press Ctrl-C to stop.
"""


def main() -> int:
    platform_name = os.environ.get("SFERUM_PLATFORM") or "vk"
    platform = PLATFORMS.get(platform_name)
    if platform is None:
        raise SystemExit(f"SFERUM_PLATFORM={platform_name!r}: the demo knows {', '.join(sorted(PLATFORMS))}")
    lms_url = f"http://127.0.0.1:{int(os.environ.get('LMS_PORT', '8000'))}"
    sandbox_url = f"http://127.0.0.1:{int(os.environ.get('SFERUM_SANDBOX_PORT', '8001'))}"
    smtp_port = int(os.environ.get("LMS_SMTP_PORT", "8025"))
    instance = Path(os.environ.get("LMS_INSTANCE_PATH") or ROOT / "examples" / "host_app" / "instance")
    env = {
        **os.environ,
        "LMS_BASE_URL": lms_url,
        "LMS_SMTP_HOST": "127.0.0.1",
        "LMS_SMTP_PORT": str(smtp_port),
        "LMS_DEMO_MODE": "1",
        "LMS_RUN_JOBS": "1",
        "PYTHONUNBUFFERED": "1",
    }

    print("Preparing the database, the demo data and the module's settings ...", flush=True)
    _must(_flask(env, "init-db"), "init-db")
    _must(_flask(env, "demo-data"), "demo-data")
    _configure_module(env, platform, sandbox_url)

    # The demo's mail server runs in this process (aiosmtpd's own thread); tests use the same sink.
    from lms_host.demo.smtp_sink import FolderSink, start_smtp_server

    smtp = start_smtp_server(FolderSink(instance / "mail"), port=smtp_port)
    supervisor = Supervisor()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Started in the background by a shell, this process (and so its children) would ignore SIGINT: the demo and
    # its servers stop on SIGINT whatever their parent did.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        supervisor.start(_sandbox_service(platform_name, platform, sandbox_url, instance, env))
        prepared = platform.prepare(sandbox_url)
        supervisor.start(_lms_service(lms_url, env))
        print(_banner(platform, lms_url, sandbox_url, prepared, smtp_port, instance), flush=True)
        return supervisor.run()
    except OSError as error:  # the sandbox stopped answering while the demo prepared it
        print(f"==> the demo could not prepare the sandbox: {error}", file=sys.stderr, flush=True)
        return 1
    except SupervisorError as error:
        print(f"==> the demo could not start: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        supervisor.stop()
        smtp.stop()


if __name__ == "__main__":
    sys.exit(main())
