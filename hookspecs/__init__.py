"""The host contract between an LMS personal cabinet and its plugins (pluggy project ``lms``).

Plugins write ``from hookspecs import hookimpl`` and register a module under the ``lms`` entry point group.
Hosts call :func:`get_plugin_manager`.  The hooks are specified in :mod:`hookspecs._specs` and documented in
``docs/hooks.md``; the values that cross the boundary are in :mod:`hookspecs.types` and the services a host
provides are Protocols in :mod:`hookspecs.services`.
"""

from hookspecs._manager import get_plugin_manager
from hookspecs._markers import PROJECT_NAME, hookimpl, hookspec

__all__ = ["PROJECT_NAME", "get_plugin_manager", "hookimpl", "hookspec"]
