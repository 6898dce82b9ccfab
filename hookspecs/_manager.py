"""Building the plugin manager in an explicit step (never at import time)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pluggy

from hookspecs import _specs
from hookspecs._markers import PROJECT_NAME

logger = logging.getLogger(__name__)


def get_plugin_manager(
    *,
    blocked: Iterable[str] = (),
    load_entrypoints: bool = True,
    plugins: Iterable[object] = (),
) -> pluggy.PluginManager:
    """Create the host's plugin manager.

    Adds the hook specifications, blocks the plugins named in ``blocked`` (entry point names, e.g. ``"sferum"``),
    loads every plugin registered under the ``lms`` entry point group, registers ``plugins`` (objects or modules,
    used by tests and by hosts that bundle plugins), and verifies that every implementation matches a spec.

    :param blocked: names of plugins that must not be loaded.
    :param load_entrypoints: whether to load installed plugins from entry points.
    :param plugins: extra plugin objects to register.
    :returns: the plugin manager.
    :raises pluggy.PluginValidationError: when a plugin implements a hook that has no spec.
    """
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(_specs)
    for name in blocked:
        pm.set_blocked(name)
        logger.info("plugin %r is blocked by configuration", name)
    if load_entrypoints:
        loaded = pm.load_setuptools_entrypoints(PROJECT_NAME)
        logger.info("loaded %d plugin(s) from entry points", loaded)
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm
