"""The MAX branch of the error tree is drawn where readers look for it, and states the one ambiguity rule."""

from __future__ import annotations

import inspect

import pytest

from sferum_plugin.gateway import ServerError, SferumError
from sferum_plugin.gateway import max as max_package
from sferum_plugin.gateway.errors import may_have_been_applied
from sferum_plugin.gateway.max import errors
from sferum_plugin.gateway.max.errors import MaxApiError, max_error_class

CLASSES = [obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, MaxApiError)]


def test_every_max_error_class_is_drawn_in_the_subpackage_docstring() -> None:
    assert max_package.__doc__ is not None
    assert [cls.__name__ for cls in CLASSES if cls.__name__ not in max_package.__doc__] == []
    assert all(issubclass(cls, SferumError) for cls in CLASSES)


@pytest.mark.parametrize(
    ("status", "applied", "retried"),
    [(400, False, False), (401, False, False), (403, False, False), (404, False, False), (405, False, False),
     (409, False, False), (429, False, True), (500, True, True), (502, True, True), (503, True, True)],
)  # fmt: skip
def test_each_status_states_whether_it_may_have_been_applied(status: int, applied: bool, retried: bool) -> None:
    error_class = max_error_class(status)
    failure = error_class(status, "code", "message", method="GET /me")

    assert may_have_been_applied(failure) is applied
    assert isinstance(failure, ServerError) is retried  # the retry policy repeats ServerErrors
