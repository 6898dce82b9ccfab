"""``sferum-sandbox vk`` takes its tokens from the environment or from files, never from its command line.

A token on a command line is visible to every user of the machine in ``ps``; printed, it lands in terminals and
logs. The sandbox reads ``SFERUM_SANDBOX_SERVICE_TOKEN``/``SFERUM_SANDBOX_APP_TOKEN`` or
``--service-token-file``/``--app-token-file`` and prints where each token comes from, never its value.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from sferum_sandbox import DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN
from sferum_sandbox.cli import main

from tests._sandbox_cli import Running, environment_without, sandbox_process

SERVICE_TOKEN = "svc-from-outside-5f1c2a9e8d7b6a5f4e3d"
APP_TOKEN = "app-from-outside-0a9b8c7d6e5f4a3b2c1d"
SANDBOX_ENV = ("SFERUM_SANDBOX_SERVICE_TOKEN", "SFERUM_SANDBOX_APP_TOKEN")


def _environment(**extra: str) -> dict[str, str]:
    return environment_without(SANDBOX_ENV, **extra)


def _sandbox(args: list[str], env: Mapping[str, str]) -> AbstractContextManager[Running]:
    return sandbox_process("vk", args, env, banner="Sferum sandbox running at ")


def _finish(process: subprocess.Popen[str]) -> str:
    """Stop the sandbox with SIGINT; return the rest of its stdout and all of its stderr."""
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    return stdout + stderr


def _accepts(url: str, token: str) -> bool:
    with httpx.Client(base_url=url, timeout=5.0, verify=False) as client:
        body = client.post("/method/apps.get", data={"access_token": token, "v": "5.199"}).json()
    return "response" in body


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_tokens_from_the_environment_are_used_and_appear_neither_in_ps_nor_in_the_output() -> None:
    env = _environment(SFERUM_SANDBOX_SERVICE_TOKEN=SERVICE_TOKEN, SFERUM_SANDBOX_APP_TOKEN=APP_TOKEN)
    with _sandbox(["--app-id", "777"], env) as (process, url, lines):
        command_line = _cmdline(process.pid)
        assert _accepts(url, APP_TOKEN)
        assert _accepts(url, SERVICE_TOKEN)
        assert not _accepts(url, DEFAULT_APP_TOKEN)
        output = "".join(lines) + _finish(process)
    for token in (SERVICE_TOKEN, APP_TOKEN):
        assert token not in command_line
        assert token not in output
    assert "APP ID:            777" in output
    assert "$SFERUM_SANDBOX_SERVICE_TOKEN" in output
    assert "$SFERUM_SANDBOX_APP_TOKEN" in output


def test_tokens_from_files_win_over_the_environment_and_only_the_file_names_are_printed(tmp_path: Path) -> None:
    service_file = tmp_path / "service-token"
    app_file = tmp_path / "app-token"
    service_file.write_text(SERVICE_TOKEN + "\n", encoding="utf-8")
    app_file.write_text(APP_TOKEN + "\n", encoding="utf-8")
    env = _environment(SFERUM_SANDBOX_SERVICE_TOKEN="svc-from-env-not-used", SFERUM_SANDBOX_APP_TOKEN="app-not-used")
    args = ["--service-token-file", str(service_file), "--app-token-file", str(app_file)]
    with _sandbox(args, env) as (process, url, lines):
        command_line = _cmdline(process.pid)
        assert _accepts(url, APP_TOKEN)
        assert not _accepts(url, "app-not-used")
        output = "".join(lines) + _finish(process)
    for token in (SERVICE_TOKEN, APP_TOKEN):
        assert token not in command_line
        assert token not in output
    assert str(service_file) in output
    assert str(app_file) in output


def test_without_environment_or_files_the_public_demo_tokens_are_named_not_printed() -> None:
    with _sandbox([], _environment()) as (process, url, lines):
        assert _accepts(url, DEFAULT_APP_TOKEN)
        output = "".join(lines) + _finish(process)
    assert DEFAULT_APP_TOKEN not in output
    assert DEFAULT_SERVICE_TOKEN not in output
    assert "sferum_sandbox.DEFAULT_APP_TOKEN" in output
    assert "sferum_sandbox.DEFAULT_SERVICE_TOKEN" in output


@pytest.mark.parametrize("argv", [["--app-token", "leaky-value-123"], ["--service-token=leaky-value-123"]])
def test_the_removed_token_options_are_refused_without_echoing_the_value(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["vk", "--port", "0", *argv])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert "leaky-value-123" not in captured.out + captured.err
    assert "ps" in captured.err
    assert "-token-file" in captured.err
    assert "SFERUM_SANDBOX_" in captured.err


@pytest.mark.parametrize("content", [None, "", "  \n", "two\nhalves-of-a-token\n"])
def test_a_missing_or_unusable_token_file_is_refused_before_serving(
    content: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SANDBOX_ENV:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "app-token"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["vk", "--port", "0", "--app-token-file", str(path)]) == 2
    captured = capsys.readouterr()
    assert str(path) in captured.err
    assert "halves-of-a-token" not in captured.err  # the content is not echoed either
    assert "running at" not in captured.out
