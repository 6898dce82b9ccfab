"""Plugins: the module registry and the rule that only installed modules' hooks are called.

A plugin that implements ``lms_module_info`` provides a *module* (one module per plugin object).  Apart from the
lifecycle hooks (info, install, uninstall, upgrade), a module's hooks are called only while it is installed: the
registry builds a pluggy *subset hook caller* without the plugins of modules that are not installed.  Plugins
without ``lms_module_info`` are always active.  Hooks are always called with keyword arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from typing import Any, cast

import attrs
import pluggy

from hookspecs import get_plugin_manager
from hookspecs.types import ModuleInfo, Route

__all__ = ["ModuleEntry", "PluginRegistry", "flatten", "make_plugin_manager"]

logger = logging.getLogger(__name__)

LIFECYCLE_HOOKS = frozenset({"lms_module_info", "lms_module_install", "lms_module_uninstall", "lms_module_upgrade"})


def make_plugin_manager(
    *, blocked: Iterable[str], load_entrypoints: bool, plugins: Iterable[object]
) -> pluggy.PluginManager:
    """The plugin manager of one application (entry points of group ``lms`` plus explicit plugins)."""
    return get_plugin_manager(blocked=blocked, load_entrypoints=load_entrypoints, plugins=plugins)


@attrs.frozen
class ModuleEntry:
    """A module found among the plugins: what it says about itself and the plugin object providing it."""

    info: ModuleInfo
    plugin: object


def flatten(answers: Iterable[Iterable[Any] | None]) -> list[Any]:
    """The items of every non-``None`` hook answer, in call order."""
    return [item for answer in answers if answer is not None for item in answer]


class PluginRegistry:
    """The modules the plugins provide, and hook callers restricted to the installed ones."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.modules: dict[str, ModuleEntry] = self._collect_modules()

    def _collect_modules(self) -> dict[str, ModuleEntry]:
        modules: dict[str, ModuleEntry] = {}
        # Each implementation is called on its own so that the answer can be tied to its plugin object.
        for impl in self.pm.hook.lms_module_info.get_hookimpls():
            info = impl.function()
            if not isinstance(info, ModuleInfo):
                logger.error("plugin %s returned %r from lms_module_info; ignored", impl.plugin_name, info)
                continue
            if info.name in modules or info.name in ("main", "schedule"):
                logger.error("plugin %s claims module name %r, which is taken", impl.plugin_name, info.name)
                continue
            modules[info.name] = ModuleEntry(info=info, plugin=impl.plugin)
        return modules

    def module_of(self, plugin: object) -> str | None:
        """The name of the module ``plugin`` provides, or ``None``."""
        for name, entry in self.modules.items():
            if entry.plugin is plugin:
                return name
        return None

    def _inactive(self, installed: Collection[str]) -> list[object]:
        return [entry.plugin for name, entry in self.modules.items() if name not in installed]

    def caller(self, hook_name: str, installed: Collection[str]) -> pluggy.HookCaller:
        """The hook ``hook_name`` restricted to always-active plugins and installed modules."""
        if hook_name in LIFECYCLE_HOOKS:
            return getattr(self.pm.hook, hook_name)  # type: ignore[no-any-return]
        return self.pm.subset_hook_caller(hook_name, remove_plugins=self._inactive(installed))

    def call(self, hook_name: str, installed: Collection[str], /, **kwargs: Any) -> Any:
        """Call a hook on the active plugins (a list of answers, or one answer for firstresult hooks)."""
        return self.caller(hook_name, installed)(**kwargs)

    def call_module(self, module: str, hook_name: str, /, **kwargs: Any) -> list[Any]:
        """Call a hook on the plugin of ``module`` only (its permissions, its routes)."""
        entry = self.modules[module]
        others = [plugin for plugin in self.pm.get_plugins() if plugin is not entry.plugin]
        answers: list[Any] = self.pm.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs)
        return answers

    def call_each(self, hook_name: str, installed: Collection[str], /, **kwargs: Any) -> list[Exception]:
        """Call every active implementation separately, so one plugin's failure does not stop the others.

        Used for notifications: the change is already committed, a failing plugin is logged, not reported.

        :returns: the exceptions raised.
        """
        failures: list[Exception] = []
        for impl in self.caller(hook_name, installed).get_hookimpls():
            try:
                impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception as exc:
                logger.exception("plugin %s failed in %s", impl.plugin_name, hook_name)
                failures.append(exc)
        return failures

    def call_safely(self, hook_name: str, installed: Collection[str], /, **kwargs: Any) -> list[Any]:
        """Call every active implementation in pluggy's order and collect the answers that are not ``None``; an
        implementation that raises is logged and left out.

        Used for what plugins add to the host's pages (menu items, lesson cards, actions, list filters): one
        failing plugin costs its own contribution, not the whole page.
        """
        answers: list[Any] = []
        for impl in reversed(self.caller(hook_name, installed).get_hookimpls()):  # pluggy calls the last first
            try:
                answer = impl.function(**{name: kwargs[name] for name in impl.argnames})
            except Exception:
                logger.exception("plugin %s failed in %s; its contribution is left out", impl.plugin_name, hook_name)
                continue
            if answer is not None:
                answers.append(answer)
        return answers

    def routes(self) -> dict[str, Sequence[Route]]:
        """Every module's routes, by module name (queried once, at application creation)."""
        result: dict[str, Sequence[Route]] = {}
        for impl in self.pm.hook.lms_routes.get_hookimpls():
            module = self.module_of(impl.plugin)
            if module is None:
                logger.warning("plugin %s declares routes but no module; not mounted", impl.plugin_name)
                continue
            result[module] = list(cast("Sequence[Route]", impl.function()))
        return result
