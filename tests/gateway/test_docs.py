"""docs/sferum-api.md stays in step with the code: every error class and every setting is documented."""

from __future__ import annotations

import inspect
from pathlib import Path

import attrs

from sferum_plugin.gateway import GatewayConfig, errors, operations

DOC = (Path(__file__).resolve().parents[2] / "docs" / "sferum-api.md").read_text(encoding="utf-8")


def test_every_error_class_is_in_the_documented_tree() -> None:
    classes = [obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, Exception)]
    assert classes
    missing = [cls.__name__ for cls in classes if cls.__name__ not in DOC]
    assert missing == []


def test_every_setting_is_documented() -> None:
    missing = [field.name for field in attrs.fields(GatewayConfig) if f"`{field.name}`" not in DOC]
    assert missing == []


SAMPLES: dict[str, operations.Operation[object]] = {
    "create_chat": operations.create_chat("t", [1]),
    "add_chat_member": operations.add_chat_member(1, 2),
    "remove_chat_member": operations.remove_chat_member(1, 2),
    "chat_members_page": operations.chat_members_page(1),
    "chats_by_id": operations.chats_by_id([1]),
    "search_chats": operations.search_chats("t"),
    "rename_chat": operations.rename_chat(1, "t"),
    "invite_link": operations.invite_link(1),
    "start_call": operations.start_call(),
    "finish_call": operations.finish_call("c" * 36),
    "users": operations.users([1]),
    "apps": operations.apps(),
}


def test_every_operation_names_its_vk_method_in_the_docs() -> None:
    builders = {name for name in operations.__all__ if inspect.isfunction(getattr(operations, name))}
    assert builders == set(SAMPLES), "add new operations to SAMPLES and to docs/sferum-api.md"
    for name, operation in SAMPLES.items():
        assert f"`{operation.method}`" in DOC, f"{name} calls {operation.method}, not in docs/sferum-api.md"
