"""`make demo`: migrate and fill a SQLite database, start the Sferum sandbox and the example host, print the URLs.

Everything runs on 127.0.0.1. Ctrl-C stops the servers. Ports: LMS_PORT (default 8000) for the host,
SFERUM_SANDBOX_PORT (default 8001) for the sandbox, LMS_SMTP_PORT (default 8025) for a local SMTP server that keeps
every message it receives as an ``.eml`` file in the host's instance folder (``<instance>/mail``), listed on
Администрирование → «Почта (демо)».
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# The sandbox's demo organisation. These are not secrets: they only open the local sandbox.
DEMO_APP_ID = "51234567"
DEMO_SERVICE_TOKEN = "sandbox-service-token-0123456789abcdef"
DEMO_APP_TOKEN = "sandbox-app-token-0123456789abcdef0123"


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "lms_host", *args], env=env, text=True, capture_output=True, check=False
    )


def _must(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        sys.stderr.write(f"{what} failed:\n{result.stdout}{result.stderr}")
        raise SystemExit(1)


def _wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server for {url} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def main() -> int:
    lms_port = int(os.environ.get("LMS_PORT", "8000"))
    sandbox_port = int(os.environ.get("SFERUM_SANDBOX_PORT", "8001"))
    lms_url = f"http://127.0.0.1:{lms_port}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
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

    print("Preparing the database and the demo data ...", flush=True)
    _must(_flask(env, "init-db"), "init-db")
    _must(_flask(env, "demo-data"), "demo-data")

    # The demo's mail server runs in this process (aiosmtpd's own thread); tests use the same sink.
    from lms_host.demo.smtp_sink import FolderSink, start_smtp_server

    smtp = start_smtp_server(FolderSink(instance / "mail"), port=smtp_port)
    children: list[subprocess.Popen[bytes]] = []
    try:
        sandbox = subprocess.Popen(
            [
                str(BIN / "sferum-sandbox"), "vk", "--host", "127.0.0.1", "--port", str(sandbox_port),
                "--app-id", DEMO_APP_ID, "--service-token", DEMO_SERVICE_TOKEN, "--app-token", DEMO_APP_TOKEN,
                "--state", str(instance / "sandbox-state.json"),
            ],
            env=env,
        )  # fmt: skip
        children.append(sandbox)
        _wait_for(f"{sandbox_url}/_sandbox/state", sandbox)

        installed = _flask(env, "modules", "install", "sferum")
        if installed.returncode != 0 and "уже установлен" not in installed.stdout + installed.stderr:
            _must(installed, "modules install sferum")
        _must(
            _flask(
                env, "modules", "configure", "sferum",
                f"app_id={DEMO_APP_ID}", f"service_token={DEMO_SERVICE_TOKEN}", f"app_token={DEMO_APP_TOKEN}",
                f"api_base_url={sandbox_url}", f"id_base_url={sandbox_url}", f"web_url={sandbox_url}/_sandbox/",
            ),
            "modules configure sferum",
        )  # fmt: skip

        host = subprocess.Popen(
            [str(BIN / "flask"), "--app", "lms_host", "run", "--host", "127.0.0.1", "--port", str(lms_port)],
            env=env,
        )
        children.append(host)
        _wait_for(f"{lms_url}/login", host)

        print(
            f"""
The demo is running.
  LMS personal cabinet:  {lms_url}/
  Sferum sandbox:        {sandbox_url}/_sandbox/
  Demo mail (SMTP):      127.0.0.1:{smtp_port}, messages in {instance / "mail"} and on {lms_url}/admin/demo-mail
Demo accounts (password "demo"): admin, teacher, student, employee.
The module «Модуль интеграции Сферум-Тандем» is installed and configured against the sandbox.
Press Ctrl-C to stop.
""",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        smtp.stop()
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    sys.exit(main())
