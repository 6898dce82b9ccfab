"""Handlers of the module's HTTP routes: they translate requests into service calls and results into pages.

They receive framework-neutral :class:`hookspecs.types.HttpRequest` objects; the host has authenticated the viewer,
verified CSRF and checked the route's permission, and every handler checks object-level rights itself.
"""
