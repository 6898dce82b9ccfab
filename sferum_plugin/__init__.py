"""Sferum integration module («Модуль интеграции Сферум-Тандем») for LMS personal cabinets.

The host loads :mod:`sferum_plugin.plugin` through the ``lms`` entry point group; everything else in this package
is reached from there.
"""

from importlib.metadata import PackageNotFoundError, version

MODULE_NAME = "sferum"
"""The module's name in the host's module registry and settings."""

try:
    __version__ = version("sferum-plugin")
except PackageNotFoundError:  # running from a source checkout that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["MODULE_NAME", "__version__"]
