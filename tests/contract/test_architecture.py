"""The shape the design promises (docs/architecture.md), checked on the source so that it cannot drift again."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

import sferum_plugin
from sferum_plugin import views
from sferum_plugin.plugin import SferumModule
from sferum_plugin.views._routing import ModuleRoute

PACKAGE = Path(sferum_plugin.__file__).resolve().parent
VIEWS = PACKAGE / "views"
QUERY_METHODS = {"session", "execute", "scalar", "scalars", "query", "connect", "begin"}


def _modules(root: Path) -> Iterator[Path]:
    yield from sorted(path for path in root.rglob("*.py") if "migrations" not in path.parts)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_gateway_imports_httpx() -> None:
    outside = [
        str(path.relative_to(PACKAGE))
        for path in _modules(PACKAGE)
        if "gateway" not in path.relative_to(PACKAGE).parts
        and any(name == "httpx" or name.startswith("httpx.") for name in _imported(path))
    ]
    assert outside == [], "only sferum_plugin/gateway/ may speak HTTP; services receive clients from it"


def test_the_checks_see_an_httpx_import(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("from httpx import Client\nimport sqlalchemy.orm\n", encoding="utf-8")
    assert _imported(module) == {"httpx", "sqlalchemy.orm"}


@pytest.mark.parametrize("path", list(_modules(VIEWS)), ids=lambda path: path.name)
def test_views_run_no_query(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not any(name.split(".")[0] == "sqlalchemy" for name in _imported(path)), "views do not import SQLAlchemy"
    calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_METHODS
    ]
    assert calls == [], f"{path.name} runs a query itself ({calls}); a service function should"


def test_every_route_is_declared_once_next_to_its_view() -> None:
    declared = [
        route
        for _, module in inspect.getmembers(views, inspect.ismodule)
        for route in getattr(module, "ROUTES", ())
        if isinstance(route, ModuleRoute) and route.view.__module__ == module.__name__
    ]
    served = SferumModule().lms_routes()
    assert sorted(r.endpoint for r in served) == sorted(r.endpoint for r in declared)
    assert len({r.endpoint for r in served}) == len(served)
    assert len({(r.rule, m) for r in served for m in r.methods}) == sum(len(r.methods) for r in served)


def test_views_that_reach_sferum_receive_it_and_no_other_does() -> None:
    for module in (getattr(views, name) for name in dir(views)):
        for route in getattr(module, "ROUTES", ()):
            takes_sferum = "sferum" in inspect.signature(route.view).parameters
            assert takes_sferum == route.reaches_sferum, route.endpoint


def test_pages_receive_the_modules_sferum_access() -> None:
    module = SferumModule()
    by_endpoint = {route.endpoint: route for route in module.lms_routes()}
    handler = by_endpoint["chat_open"].handler
    assert getattr(handler, "keywords", {}).get("sferum") is module.sferum
    jobs = {job.name: job.run for job in module.lms_background_jobs()}
    assert getattr(jobs["sferum.sync_queue"], "keywords", {}).get("sferum") is module.sferum


def test_the_modules_version_table_is_named_in_one_place() -> None:
    named = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "versions" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value == "sferum_alembic_version"
    ]
    assert named == ["services/install.py"]


def _compares_with_a_platform(node: ast.AST) -> bool:
    """``x == "max"``, ``platform != VK``...: a comparison that branches on the platform."""
    if not isinstance(node, ast.Compare):
        return False
    names = {"vk", "max", "VK", "MAX", "platform"}
    for operand in [node.left, *node.comparators]:
        if isinstance(operand, ast.Constant) and operand.value in names:
            return True
        if isinstance(operand, ast.Name) and operand.id in names:
            return True
        if isinstance(operand, ast.Attribute) and operand.attr in names:
            return True
    return False


def test_views_and_services_do_not_branch_on_the_platform() -> None:
    """PRODUCT.md §8: one port, two adapters, chosen by a dict lookup (services/platforms.py), never by an ``if``."""
    branching = [
        str(path.relative_to(PACKAGE))
        for root in (PACKAGE / "views", PACKAGE / "services")
        for path in _modules(root)
        if any(_compares_with_a_platform(node) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    ]
    assert branching == []


@pytest.mark.parametrize("source", ['if platform == "max": pass', "x = settings.platform != VK", 'y = "vk" == code'])
def test_the_check_sees_a_branch_on_the_platform(source: str) -> None:
    assert any(_compares_with_a_platform(node) for node in ast.walk(ast.parse(source)))
