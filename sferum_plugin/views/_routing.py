"""How the module declares a route: next to its view, with whether the view reaches Sferum.

Each view module lists its routes in ``ROUTES``; :func:`sferum_plugin.views.routes` collects them into the one table
the ``lms_routes`` hook answers.  A view that talks to Sferum takes the module's :class:`SferumAccess` as its second
argument; binding it here is how pages receive it from one place instead of building a client themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import attrs

from hookspecs.types import HttpRequest, HttpResponse, Page, Route

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["ModuleRoute", "View"]

View = Callable[[HttpRequest], Page | HttpResponse]


@attrs.frozen
class ModuleRoute:
    """One route of the module.

    :param rule: the path below ``/m/sferum/`` (see :class:`hookspecs.types.Route`).
    :param endpoint: the name URLs are built with.
    :param view: the handler: ``view(request)``, or ``view(request, sferum)`` when ``reaches_sferum``.
    :param methods: accepted methods.
    :param permission: the right the host checks before the view runs (the view checks the rest itself).
    :param reaches_sferum: whether the view talks to Sferum and so receives the module's :class:`SferumAccess`.
    :param webhook: the platform calls the route, not a signed-in person: served without login and CSRF, with the
        request's headers and raw body; the view authenticates the caller itself (see :attr:`Route.webhook`).
    :param max_body_bytes: the largest body the host accepts (413 beyond it), or ``None`` for the host's limit.
    """

    rule: str
    endpoint: str
    view: Callable[..., Any]  # loosely typed: test_architecture.py checks who takes ``sferum``
    methods: tuple[str, ...] = ("GET",)
    permission: str | None = None
    reaches_sferum: bool = False
    webhook: bool = False
    max_body_bytes: int | None = None

    def bind(self, sferum: SferumAccess) -> Route:
        """The host's :class:`Route`, with ``sferum`` passed to a view that reaches Sferum."""
        handler = cast(View, functools.partial(self.view, sferum=sferum) if self.reaches_sferum else self.view)
        return Route(
            rule=self.rule,
            endpoint=self.endpoint,
            handler=handler,
            methods=self.methods,
            permission=self.permission,
            login_required=not self.webhook,
            webhook=self.webhook,
            max_body_bytes=self.max_body_bytes,
        )
