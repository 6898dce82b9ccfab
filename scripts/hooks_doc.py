"""Generate docs/hooks.md from the host contract's docstrings: ``python scripts/hooks_doc.py [--check]``.

The hand-written parts (how a plugin registers, the rules every hook shares) are in ``scripts/hooks_doc.md``; the
lines ``<!-- hooks -->``, ``<!-- types -->`` and ``<!-- services -->`` there are replaced with the reference built
from ``hookspecs/_specs.py`` (one section per banner comment, one entry per hook: its exact signature and its
pytest-style docstring), ``hookspecs/types.py`` and ``hookspecs/services.py``.  ``make hooks-doc`` writes the file;
``tests/contract/test_docs.py`` fails when the file differs from what this script generates.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from hookspecs import _specs, services
from hookspecs import types as values

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("hooks_doc.md")
OUTPUT = ROOT / "docs" / "hooks.md"
FIRSTRESULT = "Stops at first non-None result."

__all__ = ["OUTPUT", "render"]


# --- docstrings ------------------------------------------------------------------------------------------------

_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc):`(~?)([^`]+)`")


def _inline(text: str) -> str:
    """reStructuredText inline markup as Markdown: ``x`` becomes `x`, :role:`a.b` `a.b` and :role:`~a.b` `b`."""
    text = text.replace("``", "`")
    return _ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", text)


@attrs.frozen
class Docstring:
    """A pytest-style docstring: paragraphs of prose, then ``:param name:`` and ``:returns:`` fields."""

    paragraphs: tuple[str, ...]
    params: tuple[tuple[str, str], ...]
    returns: str | None


def parse(obj: object) -> Docstring:
    """Split the docstring of ``obj`` into prose and fields (continuation lines joined to their field)."""
    text = inspect.getdoc(obj) or ""
    paragraphs: list[str] = []
    fields: list[list[str]] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if not lines[0].startswith(":"):
            paragraphs.append("\n".join(lines))
            continue
        for line in lines:
            if line.startswith(":"):
                fields.append([line])
            else:
                fields[-1].append(line.strip())
    params: list[tuple[str, str]] = []
    returns = None
    for field in fields:
        match = re.match(r":(param (\w+)|returns|raises [\w.]+):\s*(.*)", field[0])
        if match is None:
            raise ValueError(f"{obj!r}: cannot read the docstring field {field[0]!r}")
        body = "\n".join([match.group(3), *field[1:]])
        if match.group(2):
            params.append((match.group(2), body))
        elif match.group(1) == "returns":
            returns = body
    return Docstring(tuple(paragraphs), tuple(params), returns)


def _item(label: str, text: str) -> str:
    """A Markdown list item whose continuation lines are indented under it."""
    lines = _inline(text).splitlines() or [""]
    return "\n".join([f"- {label}: {lines[0]}", *(f"  {line}" if line else "" for line in lines[1:])])


# --- hooks -----------------------------------------------------------------------------------------------------


def _banners(module: ModuleType) -> Iterator[tuple[str, list[str]]]:
    """The module's top-level definitions grouped under its ``# ---`` banner comments, in source order."""
    title, names = "", list[str]()
    lines = inspect.getsource(module).splitlines()
    for index, line in enumerate(lines):
        if line.startswith("# ---") and index + 2 < len(lines) and lines[index + 2].startswith("# ---"):
            if names:
                yield title, names
            title, names = lines[index + 1].removeprefix("#").strip(), []
        elif match := re.match(r"(?:def|class) (\w+)", line):
            names.append(match.group(1))
    if names:
        yield title, names


def hook_signature(fn: Callable[..., Any]) -> str:
    """``def name(param: annotation, ...) -> annotation``, as the spec declares it."""
    signature = inspect.signature(fn)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"def {fn.__name__}({params}) -> {signature.return_annotation}"


def _hook(fn: Callable[..., Any]) -> str:
    doc = parse(fn)
    firstresult = bool(fn.lms_spec["firstresult"])  # type: ignore[attr-defined]
    prose = [_inline(p) for p in doc.paragraphs if p != FIRSTRESULT]
    if firstresult:
        prose.append("**firstresult**: the host stops calling plugins at the first answer that is not `None`.")
    fields = [_item(f"`{name}`", text) for name, text in doc.params]
    if doc.returns is not None:
        fields.append(_item("returns", doc.returns))
    parts = [f"### `{fn.__name__}`", f"```python\n{hook_signature(fn)}\n```", *prose]
    if fields:
        parts.append("\n".join(fields))
    return "\n\n".join(parts)


def render_hooks() -> str:
    sections = []
    for title, names in _banners(_specs):
        hooks = [_hook(getattr(_specs, name)) for name in names if name.startswith("lms_")]
        sections.append("\n\n".join([f"## {title}", *hooks]))
    return "\n\n\n".join(sections)


# --- value types and host services -----------------------------------------------------------------------------


def _default(value: object) -> str:
    if isinstance(value, attrs.Factory):  # type: ignore[arg-type]
        value = value.factory()  # type: ignore[attr-defined]
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    return repr(value).replace("'", '"')


def _call_signature(fn: Callable[..., Any]) -> str:
    """``name(param: annotation, /, ...) -> annotation`` without ``self``."""
    parts: list[str] = []
    parameters = [p for p in inspect.signature(fn).parameters.values() if p.name not in ("self", "cls")]
    for index, p in enumerate(parameters):
        if p.kind == p.KEYWORD_ONLY and (index == 0 or parameters[index - 1].kind != p.KEYWORD_ONLY):
            parts.append("*")
        text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name  # type: ignore[call-overload]
        if p.annotation is not p.empty:
            text += f": {p.annotation}"
        if p.default is not p.empty:
            text += f" = {_default(p.default)}"
        parts.append(text)
        if p.kind == p.POSITIONAL_ONLY and (index + 1 == len(parameters) or parameters[index + 1].kind != p.kind):
            parts.append("/")
    returns = inspect.signature(fn).return_annotation
    return f"{fn.__name__}({', '.join(parts)})" + ("" if returns is inspect.Signature.empty else f" -> {returns}")


def _members(cls: type) -> list[str]:
    """The public properties and methods defined in ``cls`` itself, with the first paragraph of their docstring."""
    items = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            returns = inspect.signature(member.fget).return_annotation  # type: ignore[arg-type]
            items.append(_item(f"`{name}` (`{returns}`, read-only)", "\n\n".join(parse(member).paragraphs)))
        elif isinstance(member, classmethod | staticmethod) or inspect.isfunction(member):
            fn = member.__func__ if isinstance(member, classmethod | staticmethod) else member
            items.append(_item(f"`{_call_signature(fn)}`", "\n\n".join(parse(fn).paragraphs)))
    return items


def _value_type(cls: type) -> str:
    doc = parse(cls)
    parts = [f"### `{cls.__name__}`", *(_inline(p) for p in doc.paragraphs)]
    items: list[str] = []
    if issubclass(cls, enum.Enum):
        items = [f"- `{member.name}` = `{member.value!r}`".replace("'", '"') for member in cls]
    elif attrs.has(cls):
        described = dict(doc.params)
        for field in attrs.fields(cls):
            label = f"`{field.name}` (`{field.type}`"
            label += ")" if field.default is attrs.NOTHING else f", default `{_default(field.default)}`)"
            items.append(_item(label, described.get(field.name, "")))
    items += _members(cls)
    if items:
        parts.append("\n".join(items))
    return "\n\n".join(parts)


def render_types() -> str:
    defined = [name for _, names in _banners(values) for name in names]
    classes = [getattr(values, name) for name in defined if name in values.__all__]
    return "\n\n".join(["## Value types", _inline(inspect.getdoc(values) or ""), *map(_value_type, classes)])


def _protocol(cls: type) -> str:
    parts = [f"### `{cls.__name__}`", *(_inline(p) for p in parse(cls).paragraphs)]
    items = _members(cls)
    if items:
        parts.append("\n".join(items))
    return "\n\n".join(parts)


def render_services() -> str:
    protocols = sorted(services.iter_protocols(), key=lambda cls: cls is not services.Host)  # Host first
    return "\n\n".join(["## Host services", _inline(inspect.getdoc(services) or ""), *map(_protocol, protocols)])


# --- the document ----------------------------------------------------------------------------------------------


def render() -> str:
    """docs/hooks.md as the template and the contract's docstrings make it."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for marker, part in (("hooks", render_hooks), ("types", render_types), ("services", render_services)):
        line = f"<!-- {marker} -->\n"
        if text.count(line) != 1:
            raise ValueError(f"{TEMPLATE.name} must contain the line {line.strip()!r} once")
        text = text.replace(line, part() + "\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/hooks.md is not up to date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print("docs/hooks.md is out of date: run `make hooks-doc`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
