"""``sferum-sandbox max``: it starts, serves the Bot API and stops; the bot's token comes from
``SFERUM_SANDBOX_BOT_TOKEN`` or ``--bot-token-file``, never from the command line, and is never printed."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest
from sferum_sandbox.cli import PLATFORMS, build_parser, main
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, TOKEN_ENVIRONMENT_VARIABLE

from tests._sandbox_cli import Running, environment_without, sandbox_process

BOT_TOKEN = "bot-token-from-outside-7c1e9a2b4d6f"


def _environment(**extra: str) -> dict[str, str]:
    return environment_without((TOKEN_ENVIRONMENT_VARIABLE,), **extra)


def _sandbox(args: list[str], env: Mapping[str, str]) -> AbstractContextManager[Running]:
    return sandbox_process("max", args, env, banner="MAX sandbox running at ")


def _finish(process: subprocess.Popen[str], signum: int = signal.SIGINT) -> str:
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "MAX sandbox stopped." in stdout
    return stdout + stderr


def _status(url: str, token: str) -> int:
    with httpx.Client(base_url=url, timeout=5.0, headers={"Authorization": token}) as client:
        return client.get("/me").status_code


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_max_is_a_platform_of_the_command() -> None:
    assert "max" in PLATFORMS
    args = build_parser().parse_args(["max", "--port", "0", "--bot-name", "lk_bot", "--rate-limit", "0"])
    assert (args.platform, args.port, args.bot_name, args.rate_limit, args.host) == (
        "max",
        0,
        "lk_bot",
        0.0,
        "127.0.0.1",
    )
    assert args.bot_token_file is None


def test_it_starts_serves_and_stops_with_the_token_from_the_environment() -> None:
    with _sandbox(["--bot-name", "lk_demo_bot"], _environment(**{TOKEN_ENVIRONMENT_VARIABLE: BOT_TOKEN})) as (
        process,
        url,
        lines,
    ):
        command_line = _cmdline(process.pid)
        assert _status(url, BOT_TOKEN) == 200
        assert _status(url, DEFAULT_BOT_TOKEN) == 401
        with httpx.Client(base_url=url, headers={"Authorization": BOT_TOKEN}) as client:
            assert client.get("/me").json()["username"] == "lk_demo_bot"
        output = "".join(lines) + _finish(process)
    assert BOT_TOKEN not in command_line
    assert BOT_TOKEN not in output
    assert f"${TOKEN_ENVIRONMENT_VARIABLE}" in output
    assert "https://max.ru/lk_demo_bot?start=" in output
    assert "0.0.32" in output


def test_a_token_file_wins_over_the_environment_and_state_is_kept(tmp_path: Path) -> None:
    token_file = tmp_path / "bot-token"
    token_file.write_text(BOT_TOKEN + "\n", encoding="utf-8")
    state = tmp_path / "max.json"
    env = _environment(**{TOKEN_ENVIRONMENT_VARIABLE: "not-this-one"})
    args = ["--bot-token-file", str(token_file), "--state", str(state), "--rate-limit", "0"]
    with _sandbox(args, env) as (process, url, lines):
        assert _status(url, BOT_TOKEN) == 200
        assert _status(url, "not-this-one") == 401
        with httpx.Client(base_url=url) as control:
            control.post("/_sandbox/control/add_user", json={"first_name": "Сохранённый"})
        output = "".join(lines) + _finish(process, signal.SIGTERM)
    assert BOT_TOKEN not in output
    assert str(token_file) in output
    assert "no rate limit" in output
    names = [user["first_name"] for user in json.loads(state.read_text(encoding="utf-8"))["users"]]
    assert names[-1] == "Сохранённый"


def test_without_environment_or_file_the_demo_token_is_named_not_printed() -> None:
    with _sandbox([], _environment()) as (process, url, lines):
        assert _status(url, DEFAULT_BOT_TOKEN) == 200
        output = "".join(lines) + _finish(process)
    assert DEFAULT_BOT_TOKEN not in output
    assert "sferum_sandbox.max.DEFAULT_BOT_TOKEN" in output


@pytest.mark.parametrize("content", [None, "", "  \n", "two\nhalves-of-a-token\n"])
def test_a_missing_or_unusable_token_file_is_refused_before_serving(
    content: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENVIRONMENT_VARIABLE, raising=False)
    path = tmp_path / "bot-token"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["max", "--port", "0", "--bot-token-file", str(path)]) == 2
    captured = capsys.readouterr()
    assert str(path) in captured.err
    assert "halves-of-a-token" not in captured.err
    assert "running at" not in captured.out


@pytest.mark.parametrize("argv", [["--bot-token", "leaky-value-123"], ["--bot-token=leaky-value-123"]])
def test_a_token_on_the_command_line_is_refused_without_echoing_it(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["max", "--port", "0", *argv])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert "leaky-value-123" not in captured.out + captured.err
    assert "running at" not in captured.out


def test_options_are_not_abbreviated(capsys: pytest.CaptureFixture[str]) -> None:
    # Else "--bot-tok VALUE" would read a file named VALUE and print its name.
    with pytest.raises(SystemExit) as stopped:
        main(["max", "--port", "0", "--bot-token-f", "some-file"])
    assert stopped.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err
