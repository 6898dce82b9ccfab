"""The host finds the plugin through the installed entry point alone: a wheel built from the repository, installed
into a fresh virtual environment, checked in a subprocess that cannot see the source checkout."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import importlib.metadata as md, json, sys
from hookspecs import get_plugin_manager
pm = get_plugin_manager()
plugin = pm.get_plugin("sferum")
eps = [(ep.name, ep.value) for ep in md.entry_points(group="lms")]
info = pm.hook.lms_module_info()
print(json.dumps({"eps": eps, "file": plugin.__file__, "titles": [i.title for i in info],
                  "version": md.version("sferum-plugin")}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("sferum_plugin-*.whl")
    return built


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


def test_installed_wheel_registers_the_plugin_under_the_lms_entry_point_group(wheel: Path, tmp_path: Path) -> None:
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

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run(
        [python, "-I", "-c", CHECK], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    )

    import json

    report = json.loads(result.stdout)
    assert report["eps"] == [["sferum", "sferum_plugin.plugin"]]
    assert report["file"].startswith(str(env_dir))  # the installed copy, not the checkout
    assert report["titles"] == ["Модуль интеграции Сферум-Тандем"]
    assert report["version"] == "0.1.0"


def test_wheel_ships_templates_translations_and_migrations(wheel: Path) -> None:
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "sferum_plugin/templates/online_lessons.html" in names
    assert "sferum_plugin/locale/en/LC_MESSAGES/messages.po" in names
    assert any(n.startswith("sferum_plugin/migrations/versions/0001") for n in names)
    assert "sferum_plugin/migrations/env.py" in names
    assert "hookspecs/py.typed" in names
