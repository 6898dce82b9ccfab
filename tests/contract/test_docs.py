"""Keep the hooks reference honest: generated from the contract's docstrings, every hook documented with its real
signature and a contract test, and every docstring complete enough to generate it from."""

from __future__ import annotations

import ast
import difflib
import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

import attrs
import pytest

from hookspecs import _specs, services
from hookspecs import types as values

ROOT = Path(__file__).resolve().parents[2]
HOOKS_DOC = ROOT / "docs" / "hooks.md"
HOOKS_TESTS = ROOT / "tests" / "contract" / "test_hooks.py"
SPECS = {name: fn for name, fn in vars(_specs).items() if name.startswith("lms_") and callable(fn)}
VALUE_TYPES = [getattr(values, name) for name in values.__all__ if attrs.has(getattr(values, name))]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hooks_doc", ROOT / "scripts" / "hooks_doc.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _signature(fn: object) -> str:
    signature = inspect.signature(fn)  # type: ignore[arg-type]
    params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"def {fn.__name__}({params}) -> {signature.return_annotation}"  # type: ignore[attr-defined]


def _documented() -> dict[str, str]:
    text = HOOKS_DOC.read_text(encoding="utf-8")
    pattern = re.compile(r"^### `(lms_\w+)`\n\n```python\n(def .+?)\n```", re.M)
    return {m.group(1): m.group(2) for m in pattern.finditer(text)}


def _contract_tests() -> set[str]:
    tree = ast.parse(HOOKS_TESTS.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def _params(doc: str) -> list[str]:
    return re.findall(r"^:param (\w+):", doc, re.M)


def test_hooks_doc_is_generated_from_the_docstrings() -> None:
    expected = _script().render()
    actual = HOOKS_DOC.read_text(encoding="utf-8")
    diff = "".join(
        list(difflib.unified_diff(actual.splitlines(True), expected.splitlines(True), "docs/hooks.md", "generated"))[
            :60
        ]
    )
    assert actual == expected, f"docs/hooks.md is out of date: run `make hooks-doc`\n{diff}"


def test_the_generator_covers_every_hook_type_and_service() -> None:
    text = _script().render()
    for name in [*SPECS, *values.__all__, *(cls.__name__ for cls in services.iter_protocols())]:
        assert f"### `{name}`" in text, f"scripts/hooks_doc.py leaves {name} out of docs/hooks.md"
    assert "<!--" not in text.replace("<!-- Generated", "", 1), "a template marker was left unreplaced"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_is_documented_with_its_signature(name: str) -> None:
    documented = _documented()
    assert name in documented, f"{name} is missing from docs/hooks.md"
    assert documented[name] == _signature(SPECS[name]), f"the signature of {name} in docs/hooks.md drifted"


def test_docs_describe_no_hook_that_does_not_exist() -> None:
    assert set(_documented()) <= set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_has_a_contract_test(name: str) -> None:
    assert f"test_hook_{name}" in _contract_tests(), f"no test named test_hook_{name} in {HOOKS_TESTS.name}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_spec_docstring_has_the_generated_shape(name: str) -> None:
    fn = SPECS[name]
    doc = inspect.getdoc(fn) or ""
    summary = doc.split("\n\n", 1)[0]
    assert not summary.startswith(":"), f"{name}: the docstring starts without a summary"
    assert summary.endswith("."), f"{name}: the summary is not a sentence"
    assert _params(doc) == list(inspect.signature(fn).parameters), f"{name}: :param: fields differ from the signature"
    returns = inspect.signature(fn).return_annotation
    assert (":returns:" in doc) == (returns != "None"), f"{name}: :returns: and the return annotation disagree"
    firstresult = fn.lms_spec["firstresult"]  # type: ignore[attr-defined]
    assert ("Stops at first non-None result." in doc) == firstresult, f"{name}: firstresult is not documented"


@pytest.mark.parametrize("cls", VALUE_TYPES, ids=lambda cls: cls.__name__)
def test_value_type_documents_every_field(cls: type) -> None:
    fields = [field.name for field in attrs.fields(cls)]
    documented = _params(inspect.getdoc(cls) or "")
    assert sorted(documented) == sorted(fields), f"{cls.__name__}: :param: fields differ from the attrs fields"


@pytest.mark.parametrize("cls", list(services.iter_protocols()), ids=lambda cls: cls.__name__)
def test_host_service_documents_every_member(cls: type) -> None:
    assert inspect.getdoc(cls), f"{cls.__name__} has no docstring"
    for name, member in vars(cls).items():
        if not name.startswith("_") and (isinstance(member, property) or inspect.isfunction(member)):
            assert inspect.getdoc(member), f"{cls.__name__}.{name} has no docstring"
