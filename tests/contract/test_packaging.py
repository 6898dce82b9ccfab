"""The host finds the plugin through the installed entry point alone: a wheel built from the repository, installed
into a fresh virtual environment, checked in a subprocess that cannot see the source checkout.

The sandbox is a distribution of its own: the plugin's wheel neither contains it nor requires Werkzeug, and the
sandbox's wheel carries VK's schema and the ``sferum-sandbox`` command. Each wheel is built from a clean copy of its
sources, so that leftovers in a ``build/`` directory of the checkout cannot slip into it."""

from __future__ import annotations

import email
import email.message
import json
import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_PACKAGES = ["hookspecs", "sferum_plugin"]

CHECK = """
import importlib.metadata as md, json, sys
from hookspecs import get_plugin_manager
from sferum_plugin.plugin import SferumModule
pm = get_plugin_manager()
plugin = pm.get_plugin("sferum")
eps = [(ep.name, ep.value) for ep in md.entry_points(group="lms")]
info = pm.hook.lms_module_info()
print(json.dumps({"eps": eps, "file": sys.modules[type(plugin).__module__].__file__,
                  "is_module": isinstance(plugin, SferumModule), "titles": [i.title for i in info],
                  "version": md.version("sferum-plugin")}))
"""


def _build_wheel(sources: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(sources)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("*.whl")
    return built


def _clean_copy(source: Path, target: Path, names: list[str]) -> Path:
    """Copy ``names`` of ``source`` to ``target`` without build output, caches or egg-info."""
    ignore = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "*.pyc")
    for name in names:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, ignore=ignore)
        else:
            shutil.copy2(source / name, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = _clean_copy(ROOT, tmp_path_factory.mktemp("plugin"), ["pyproject.toml", "README.md", *PLUGIN_PACKAGES])
    return _build_wheel(sources, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def sandbox_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sources = _clean_copy(ROOT / "sandbox", tmp_path_factory.mktemp("sandbox"), ["pyproject.toml", "README.md", "src"])
    return _build_wheel(sources, tmp_path_factory.mktemp("sandbox-dist"))


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def _dependencies_only(target: Path) -> Path:
    """A directory exposing this environment's installed packages except the project itself."""
    target.mkdir()
    for entry in Path(site.getsitepackages()[0]).iterdir():
        name = entry.name.lower()
        if name.startswith(("sferum", "__editable__", "lms_host", "hookspecs", "_sferum", "_lms")):
            continue
        if entry.suffix == ".pth":
            continue
        (target / entry.name).symlink_to(entry)
    return target


def _fresh_venv_with(wheel: Path, tmp_path: Path) -> Path:
    """A new virtual environment with ``wheel`` installed and this environment's dependencies (not the project's own
    distributions) importable; returns its python."""
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    deps = _dependencies_only(tmp_path / "deps")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "deps.pth").write_text(str(deps) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return python


def _run_isolated(python: Path, code: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VK_API_SCHEMA_DIR")}
    result = subprocess.run([python, "-I", "-c", code], cwd=cwd, env=env, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_installed_wheel_registers_the_plugin_under_the_lms_entry_point_group(wheel: Path, tmp_path: Path) -> None:
    python = _fresh_venv_with(wheel, tmp_path)
    report = json.loads(_run_isolated(python, CHECK, tmp_path))
    env_dir = tmp_path / "fresh"
    assert report["eps"] == [["sferum", "sferum_plugin.plugin:plugin"]]
    assert report["is_module"]  # the entry point names the module object, which holds its way in to Sferum
    assert report["file"].startswith(str(env_dir))  # the installed copy, not the checkout
    assert report["titles"] == ["Модуль интеграции Сферум-Тандем"]
    assert report["version"] == "0.1.0"


def test_wheel_ships_templates_translations_and_migrations(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "sferum_plugin/templates/online_lessons.html" in names
    assert "sferum_plugin/templates/static/profile_link.js" in names  # the MAX linking page's script (CSP: no inline)
    assert any(n.startswith("sferum_plugin/migrations/versions/0008") for n in names)
    assert "sferum_plugin/locale/en/LC_MESSAGES/messages.po" in names
    assert any(n.startswith("sferum_plugin/migrations/versions/0001") for n in names)
    assert "sferum_plugin/migrations/env.py" in names
    assert "hookspecs/py.typed" in names


def test_plugin_wheel_holds_neither_the_sandbox_nor_a_werkzeug_requirement(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/", 1)[0] for name in names if not name.startswith("sferum_plugin-")}
    assert packages == set(PLUGIN_PACKAGES)
    assert not [name for name in names if "sandbox" in name.lower()]
    requires = [req.lower() for req in _metadata(wheel).get_all("Requires-Dist", [])]
    assert not [req for req in requires if req.startswith("werkzeug")]
    assert not [req for req in requires if req.startswith("sferum-sandbox") and "extra" not in req]


def test_sandbox_wheel_carries_the_vk_schema_and_the_command(sandbox_wheel: Path) -> None:
    from sferum_sandbox import SCHEMA_DIR

    with zipfile.ZipFile(sandbox_wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
    assert {name.split("/", 1)[0] for name in names if ".dist-info/" not in name} == {"sferum_sandbox"}
    vendored = sorted(
        f"sferum_sandbox/vk/schema/{path.relative_to(SCHEMA_DIR).as_posix()}"
        for path in SCHEMA_DIR.rglob("*")
        if path.is_file()
    )
    assert len(vendored) > 100
    assert set(vendored) <= set(names)
    for needed in ("LICENSE", "PROVENANCE.md", "errors.json", "messages/methods.json"):
        assert f"sferum_sandbox/vk/schema/{needed}" in names
    assert "sferum_sandbox/py.typed" in names
    assert "[console_scripts]\nsferum-sandbox = sferum_sandbox.cli:main" in scripts
    metadata = _metadata(sandbox_wheel)
    assert (metadata["Name"], metadata["Version"]) == ("sferum-sandbox", "0.1.0")
    assert sorted(metadata.get_all("Requires-Dist", [])) == ["Werkzeug>=3.0", "attrs>=23.2"]


SANDBOX_CHECK = """
import json, sferum_sandbox
sandbox = sferum_sandbox.Sandbox(rate_limit_per_second=None)
print(json.dumps({"file": sferum_sandbox.__file__, "schema": sandbox.contract_source,
                  "users": len(sandbox.state()["users"])}))
"""


def test_installed_sandbox_wheel_reads_its_own_copy_of_the_schema(sandbox_wheel: Path, tmp_path: Path) -> None:
    python = _fresh_venv_with(sandbox_wheel, tmp_path)
    report = json.loads(_run_isolated(python, SANDBOX_CHECK, tmp_path))
    env_dir = str(tmp_path / "fresh")
    assert report["file"].startswith(env_dir)  # the installed copy, not the checkout
    assert report["schema"].startswith(env_dir)
    assert report["schema"].endswith("sferum_sandbox/vk/schema")
    assert report["users"] == 11
