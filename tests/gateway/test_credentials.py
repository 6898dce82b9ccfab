"""The "check connection" verdicts name the wrong credential (scripted replies; the sandbox runs them for real)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sferum_plugin.gateway import (
    CheckVerdict,
    CredentialCheck,
    GatewayConfig,
    RateLimiter,
    RetryPolicy,
    check_credentials,
)
from tests.gateway.fakes import FakeClock, FakeVkApi, ok, vk_error

SERVICE = "service-token-SECRET-000111"
APP_TOKEN = "app-token-SECRET-000222"
APP = {"type": "app", "id": 51, "title": "LMS Sferum"}


def _apps(request: httpx.Request) -> dict[str, Any]:
    form = dict(httpx.QueryParams(request.content.decode()))
    if form["access_token"] != SERVICE:
        return vk_error(5, "User authorization failed: invalid access_token")
    wanted = int(form.get("app_id", "51"))
    items = [APP] if wanted == 51 else []
    return ok({"count": len(items), "items": items})


def _users(request: httpx.Request) -> dict[str, Any]:
    form = dict(httpx.QueryParams(request.content.decode()))
    if form["access_token"] == APP_TOKEN:
        return ok([{"id": 1, "first_name": "Org", "last_name": "Account"}])
    if form["access_token"] == SERVICE:
        return ok([])
    return vk_error(5, "User authorization failed: invalid access_token")


def _check(
    app_id: int = 51, service: str = SERVICE, app_token: str = APP_TOKEN, **scripts: Any
) -> list[CredentialCheck]:
    fake_api = FakeVkApi().on("apps.get", scripts.get("apps", _apps)).on("users.get", scripts.get("users", _users))
    retry = RetryPolicy(max_attempts=2, sleep=lambda seconds: None)
    clock = FakeClock()
    limiter = RateLimiter(3.0, 3, clock=clock, sleep=clock.sleep)
    with fake_api.client() as http:
        return check_credentials(
            GatewayConfig(),
            app_id=app_id,
            service_token=service,
            app_token=app_token,
            http=http,
            retry=retry,
            limiter=limiter,
        )


def _verdicts(checks: list[CredentialCheck]) -> dict[str, bool]:
    return {check.credential: check.ok for check in checks}


def test_good_credentials_pass_with_a_useful_message() -> None:
    checks = _check()

    assert [c.credential for c in checks] == ["app_id", "service_token", "app_token"]
    assert _verdicts(checks) == {"app_id": True, "service_token": True, "app_token": True}
    assert (checks[0].name, checks[0].number) == ("LMS Sferum", 51)
    assert (checks[2].name, checks[2].number) == ("Org Account", 1)


def test_a_wrong_service_token_is_named_and_the_app_id_is_not_blamed() -> None:
    app_id, service, app_token = _check(service="wrong-service-token-0")

    assert service.verdict is CheckVerdict.REJECTED
    assert app_id.verdict is CheckVerdict.NOT_CHECKED
    assert app_token.ok


def test_an_unknown_app_id_is_named() -> None:
    app_id, service, _ = _check(app_id=99)

    assert service.ok
    assert (app_id.verdict, app_id.number) == (CheckVerdict.UNKNOWN_APP, 99)


def test_an_app_id_that_is_not_the_service_tokens_application_is_named() -> None:
    def two_apps(request: httpx.Request) -> dict[str, Any]:
        form = dict(httpx.QueryParams(request.content.decode()))
        app = {"type": "app", "id": int(form.get("app_id", "51")), "title": "Other"}
        return ok({"count": 1, "items": [app if "app_id" in form else APP]})

    app_id, service, _ = _check(app_id=77, apps=two_apps)

    assert service.ok
    assert (app_id.verdict, app_id.name, app_id.number) == (CheckVerdict.OTHER_APP, "Other", 51)


@pytest.mark.parametrize(
    ("app_token", "expected"),
    [
        ("wrong-app-token-00000", CheckVerdict.REJECTED),
        (SERVICE, CheckVerdict.NO_OWNER),
        ("   ", CheckVerdict.EMPTY),
    ],
)
def test_a_wrong_application_token_is_named(app_token: str, expected: CheckVerdict) -> None:
    *_, verdict = _check(app_token=app_token)

    assert not verdict.ok
    assert verdict.verdict is expected


def test_an_unreachable_sferum_fails_every_check_without_raising() -> None:
    def refused(request: httpx.Request) -> None:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    checks = _check(apps=refused, users=refused)

    assert [check.verdict for check in checks] == [CheckVerdict.NO_ANSWER] * 3
    assert all(SERVICE not in repr(c) + str(c.error) and APP_TOKEN not in repr(c) + str(c.error) for c in checks)
