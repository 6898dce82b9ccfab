"""Keep the hooks reference honest: every hook documented with its real signature, and every hook tested."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from hookspecs import _specs

ROOT = Path(__file__).resolve().parents[2]
HOOKS_DOC = ROOT / "docs" / "hooks.md"
SPECS = {name: fn for name, fn in vars(_specs).items() if name.startswith("lms_") and callable(fn)}


def _signature(fn: object) -> str:
    signature = inspect.signature(fn)  # type: ignore[arg-type]
    params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"def {fn.__name__}({params}) -> {signature.return_annotation}"  # type: ignore[attr-defined]


def _documented() -> dict[str, str]:
    text = HOOKS_DOC.read_text(encoding="utf-8")
    pattern = re.compile(r"^### `(lms_\w+)`\n\n```python\n(def .+?)\n```", re.M)
    return {m.group(1): m.group(2) for m in pattern.finditer(text)}


def _test_function_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                names.add(node.name)
    return names


def test_there_are_hooks_for_every_extension_point() -> None:
    assert len(SPECS) >= 16


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_is_documented_with_its_signature(name: str) -> None:
    documented = _documented()
    assert name in documented, f"{name} is missing from docs/hooks.md"
    assert documented[name] == _signature(SPECS[name]), f"the signature of {name} in docs/hooks.md drifted"


def test_docs_describe_no_hook_that_does_not_exist() -> None:
    assert set(_documented()) <= set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_has_a_contract_test(name: str) -> None:
    assert f"test_hook_{name}" in _test_function_names(), f"no test named test_hook_{name}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_spec_is_documented_in_the_same_shape(name: str) -> None:
    doc = inspect.getdoc(SPECS[name]) or ""
    params = inspect.signature(SPECS[name]).parameters
    for param in params:
        assert f":param {param}:" in doc, f"{name} does not document :param {param}:"
    if SPECS[name].lms_spec["firstresult"]:  # type: ignore[attr-defined]
        assert "Stops at first non-None result." in doc
