"""URL building for plugins, usable without a request (background jobs build links too)."""

from __future__ import annotations

from werkzeug.routing import Map

__all__ = ["HOST_PAGES", "HostUrls", "plugin_endpoint"]

HOST_PAGES = {
    "dashboard": "dashboard.index",
    "schedule": "schedule.week",
    "modules": "admin.modules",
    "module_settings": "admin.settings",
    "roles": "admin.roles",
    "chats": "chats.index",
    "students": "people.students",
    "employees": "people.employees",
    "login": "auth.login",
}
"""The host pages a plugin may link to, by the names :meth:`HostUrls.host_page` accepts."""


def plugin_endpoint(module: str, endpoint: str) -> str:
    """The Flask endpoint of a plugin route."""
    return f"plugin.{module}.{endpoint}"


class HostUrls:
    """Builds paths from the application's URL map and absolute URLs from ``LMS_BASE_URL``."""

    def __init__(self, url_map: Map, base_url: str) -> None:
        self._url_map = url_map
        self._base_url = base_url.rstrip("/")

    def _build(self, endpoint: str, params: dict[str, object]) -> str:
        # Binding the map directly (not url_for) works outside a request; the server name is irrelevant
        # because only the path is built.
        adapter = self._url_map.bind("localhost")
        return adapter.build(endpoint, params)

    def for_route(self, module: str, endpoint: str, /, **params: object) -> str:
        """The path of a plugin route with its placeholders filled (extra params become the query string)."""
        return self._build(plugin_endpoint(module, endpoint), params)

    def external(self, path: str) -> str:
        """``path`` prefixed with the configured base URL."""
        return self._base_url + (path if path.startswith("/") else "/" + path)

    def host_page(self, name: str, /, **params: object) -> str:
        """The path of a host page (see :data:`HOST_PAGES`); raises ``KeyError`` for an unknown page."""
        if name == "module_settings" and "module" in params:
            # The contract names the parameter after what it is (``module=``); the route calls it ``name``.
            params = {"name": params.pop("module"), **params}
        return self._build(HOST_PAGES[name], params)
