"""The sandbox as a distribution of its own: its public control API, its command line, and the plugin's alias."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sferum_sandbox
import sferum_sandbox.vk
from sferum_sandbox import ORG_ACCOUNT_ID, Sandbox
from sferum_sandbox.cli import PLATFORMS, build_parser

from sferum_plugin import cli as plugin_cli

ANNA, BORIS = 1001, 1002


def _chat(api, *members: int, title: str = "ИВТ-21") -> int:
    chat_id: int = api.ok("messages.createChat", user_ids=",".join(map(str, members)), title=title)["chat_id"]
    return chat_id


def test_the_top_level_package_re_exports_the_vk_emulator():
    for name in sferum_sandbox.vk.__all__:
        assert getattr(sferum_sandbox, name) is getattr(sferum_sandbox.vk, name), name
    assert set(sferum_sandbox.vk.__all__) <= set(sferum_sandbox.__all__)


def test_chat_member_ids_reads_a_chat_in_join_order(api, sandbox):
    chat_id = _chat(api, ANNA, BORIS)
    assert sandbox.chat_member_ids(chat_id) == [ORG_ACCOUNT_ID, ANNA, BORIS]
    with pytest.raises(KeyError, match="no Sferum chat 99"):
        sandbox.chat_member_ids(99)


def test_a_member_removed_behind_the_apis_back_is_gone_from_the_api_too(api, sandbox):
    chat_id = _chat(api, ANNA, BORIS)
    sandbox.remove_chat_member(chat_id, ANNA)
    members = api.ok("messages.getConversationMembers", peer_id=2_000_000_000 + chat_id)["items"]
    assert [m["member_id"] for m in members] == [ORG_ACCOUNT_ID, BORIS]
    with pytest.raises(KeyError, match="not in chat"):
        sandbox.remove_chat_member(chat_id, ANNA)
    assert sandbox.request_counts() == {"messages.createChat": 1, "messages.getConversationMembers": 1}


def test_deleted_chats_are_gone_as_if_deleted_in_sferum(api, sandbox):
    first, second, third = _chat(api, ANNA), _chat(api, BORIS), _chat(api, ANNA, BORIS)
    sandbox.delete_chat(second)
    assert [chat["chat_id"] for chat in sandbox.state()["chats"]] == [first, third]
    assert api.error("messages.getInviteLink", peer_id=2_000_000_000 + second)["error_code"] == 927
    with pytest.raises(KeyError):
        sandbox.delete_chat(second)
    assert sandbox.delete_all_chats() == 2
    assert sandbox.state()["chats"] == []
    assert sandbox.delete_all_chats() == 0


def test_control_changes_are_written_to_the_state_file(tmp_path):
    state_file = tmp_path / "sandbox.json"
    sandbox = Sandbox(rate_limit_per_second=None, state_file=state_file)
    oleg = sandbox.add_user("Олег", "Сидоров")
    assert oleg in [user["id"] for user in json.loads(state_file.read_text(encoding="utf-8"))["users"]]
    again = Sandbox(rate_limit_per_second=None, state_file=state_file)
    assert again.state() == sandbox.state()


def test_the_command_has_one_subcommand_per_platform():
    assert list(PLATFORMS) == ["vk", "max"]
    parser = build_parser()
    args = parser.parse_args(["vk", "--port", "0", "--rate-limit", "0", "--state", "x.json"])
    assert (args.platform, args.port, args.rate_limit, str(args.state)) == ("vk", 0, 0.0, "x.json")
    assert args.host == "127.0.0.1"
    with pytest.raises(SystemExit) as exited:
        parser.parse_args([])
    assert exited.value.code == 2


def test_the_console_script_and_the_module_show_the_platforms():
    for command in (
        [sys.executable, "-m", "sferum_sandbox", "--help"],
        [str(Path(sys.executable).parent / "sferum-sandbox"), "vk", "--help"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert "vk" in result.stdout
    assert "--rate-limit" in result.stdout


def test_sferum_sandbox_is_an_alias_when_the_sandbox_is_installed(capsys):
    with pytest.raises(SystemExit) as exited:
        plugin_cli.main(["sandbox", "vk", "--help"])
    assert exited.value.code == 0
    assert "usage: sferum sandbox vk" in capsys.readouterr().out


def test_sferum_sandbox_says_so_when_the_sandbox_is_not_installed(monkeypatch, capsys):
    real_find_spec = plugin_cli.importlib.util.find_spec
    monkeypatch.setattr(
        plugin_cli.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "sferum_sandbox" else real_find_spec(name, *args),
    )
    assert plugin_cli.main(["sandbox", "vk"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "not installed" in error
    assert "sferum-sandbox" in error
