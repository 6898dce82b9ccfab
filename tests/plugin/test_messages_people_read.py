"""Sferum's failures as people read them: in the UI language, saying what to do, true to what happens next."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import attrs
import httpx
import pytest
from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN, RunningSandbox, Sandbox, serve

from hookspecs.types import HttpRequest, Page, Viewer
from sferum_plugin.gateway import SferumConnector
from sferum_plugin.gateway.errors import (
    CaptchaNeededError,
    MalformedResponseError,
    NotOrganisationMemberError,
    OutcomeUnknownError,
    QuotaExceededError,
    RetryableApiError,
    ServerError,
    SferumError,
    SpamRestrictionError,
    TransportError,
    VkIdError,
    api_error_class,
)
from sferum_plugin.models import ProfileLink
from sferum_plugin.services import install, lessons
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.services.explain import Retry, explain, moment_text
from sferum_plugin.services.lessons import CallsFactory
from sferum_plugin.views import connection_check, lesson_actions
from tests._sferum import NO_WAIT, no_wait_access
from tests.plugin.fakes import ORG_TZ, FakeHost
from tests.plugin.test_lessons import NOW, SETTINGS, TEACHER, FakeCalls, _lesson

LATIN = re.compile(r"[A-Za-z]")


def _shown(page: Page) -> str:
    """The message of a message page, as a person reads it."""
    match = re.search(r'<p class="sferum-message-text">(.*?)</p>', page.body_html, re.S)
    assert match, page.body_html
    return match.group(1).strip()


@attrs.define
class FailingCalls(FakeCalls):
    """Calls whose ``calls.forceFinish`` fails with ``finish_error``."""

    finish_error: Exception | None = None

    def finish_call(self, call_id: str) -> bool:
        if self.finish_error is not None:
            raise self.finish_error
        return super().finish_call(call_id)


@attrs.define
class FakeAccess:
    """The page's way in to Sferum, handing out one fake CallsApi."""

    calls_api: FailingCalls

    @contextmanager
    def calls(self) -> Iterator[CallsFactory]:
        yield lambda settings: self.calls_api


@pytest.fixture
def teacher_host(host: FakeHost) -> FakeHost:
    install.install(host.db.engine)
    host.clock.current = NOW
    host.directory.lesson_list = [_lesson(1)]
    host.settings.stored["sferum"] = {
        "app_id": str(SETTINGS.app_id), "service_token": SETTINGS.service_token, "app_token": SETTINGS.app_token,
    }  # fmt: skip
    with host.db.session() as session:
        session.add(
            ProfileLink(
                platform="vk", app_id=SETTINGS.app_id, user_id=TEACHER.user_id, sferum_user_id=1001, linked_at=NOW
            )
        )
    return host


def _press(host: FakeHost, action: str, error: Exception, locale: str = "ru", *, active: bool = False) -> Page:
    """The teacher presses «Начать» or «Завершить» on the schedule while Sferum fails with ``error``."""
    calls = FailingCalls()
    access = FakeAccess(calls)
    viewer = attrs.evolve(TEACHER, locale=locale)
    request = HttpRequest(method="POST", path="/", viewer=viewer, host=host, path_params={"lesson_id": "1"})
    if active:
        lesson_actions.start_lesson(request, access)  # type: ignore[arg-type]
    if action == "end":
        calls.finish_error = error
    else:
        calls.fail_with = error
    page = getattr(lesson_actions, f"{action}_lesson")(request, access)
    assert isinstance(page, Page)
    assert page.status == 502
    return page


TOO_MANY = RetryableApiError(6, "Too many requests per second", method="calls.start")


def test_a_teacher_meeting_error_6_reads_russian_saying_to_try_again_in_a_minute(teacher_host: FakeHost) -> None:
    text = _shown(_press(teacher_host, "start", TOO_MANY))
    assert "Too many" not in text
    assert not LATIN.search(text), text
    assert "Попробуйте ещё раз через минуту" in text
    assert "будет повторена" not in text  # nothing repeats a click
    english = _shown(_press(teacher_host, "start", TOO_MANY, locale="en"))
    assert "try again in a minute" in english
    assert not re.search("[А-Яа-я]", english)


def test_a_quota_pause_met_by_a_teacher_names_its_end_in_the_organisations_time(teacher_host: FakeHost) -> None:
    resume = datetime(2026, 11, 30, 7, 10, tzinfo=UTC)  # 10:10 in Moscow
    flood = QuotaExceededError(9, "Flood control", retry_after=600, resume_at=resume, method="calls.start")
    text = _shown(_press(teacher_host, "start", flood))
    assert "30.11.2026 10:10" in text
    assert "Flood" not in text
    assert "Попробуйте снова после" in text


@pytest.mark.parametrize(
    ("code", "words"),
    [(14, "капчу"), (984, "за подозрение в спаме")],
)
def test_a_captcha_or_a_spam_restriction_met_by_a_teacher_says_what_it_is_and_until_when(
    teacher_host: FakeHost, code: int, words: str
) -> None:
    resume = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 11:00 in Moscow
    error_class = CaptchaNeededError if code == 14 else SpamRestrictionError
    error = error_class(code, "Captcha needed", retry_after=3600, resume_at=resume, method="calls.start")
    text = _shown(_press(teacher_host, "start", error))
    assert words in text
    assert "30.11.2026 11:00" in text
    assert not LATIN.search(text), text


def test_a_person_outside_the_organisation_is_told_so_not_a_generic_refusal() -> None:
    refusal = NotOrganisationMemberError(
        967, "This user can't be added to the work chat", method="messages.addChatUser"
    )
    explanation = explain(refusal, retry=Retry.BY_PERSON)
    assert "не состоит в организации" in explanation.message
    assert not explanation.will_retry


@pytest.mark.parametrize(
    "error",
    [TransportError("connect failed", request_sent=False), RetryableApiError(10, "Internal server error")],
)
def test_ending_a_lesson_while_sferum_fails_says_what_to_do_and_promises_no_retry(
    teacher_host: FakeHost, error: SferumError
) -> None:
    text = _shown(_press(teacher_host, "end", error, active=True))
    assert not LATIN.search(text), text
    assert "Попробуйте ещё раз через несколько минут" in text
    assert "будет повторена" not in text
    assert lessons.join_link(teacher_host, TEACHER, 1, SETTINGS)  # the lesson is still on: nothing was ended


# -- against the sandbox over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def running() -> Iterator[tuple[Sandbox, RunningSandbox]]:
    box = Sandbox(rate_limit_per_second=None)
    with serve(box) as server:
        yield box, server


def test_error_6_from_the_sandbox_reaches_the_teacher_in_russian(
    teacher_host: FakeHost, running: tuple[Sandbox, RunningSandbox]
) -> None:
    box, server = running
    teacher_host.settings.stored["sferum"] = {
        "app_id": str(DEFAULT_APP_ID), "service_token": DEFAULT_SERVICE_TOKEN, "app_token": DEFAULT_APP_TOKEN,
        "api_base_url": server.url, "id_base_url": server.url,
    }  # fmt: skip
    assert SETTINGS.app_id == DEFAULT_APP_ID  # the teacher's profile is linked for the sandbox's application
    box.faults.inject("calls.start", error_code=6, times=NO_WAIT.max_attempts)
    request = HttpRequest(method="POST", path="/", viewer=TEACHER, host=teacher_host, path_params={"lesson_id": "1"})
    page = lesson_actions.start_lesson(request, no_wait_access())  # the real gateway, over HTTP
    assert isinstance(page, Page)
    text = _shown(page)
    assert not LATIN.search(text), text
    assert "Попробуйте ещё раз через минуту" in text
    assert box.request_counts().get("calls.start") == NO_WAIT.max_attempts  # the gateway's own retries, no more
    assert lesson_actions.start_lesson(request, no_wait_access()).status == 303  # and the teacher can retry


# -- «Проверить подключение» with Sferum unreachable --------------------------------------------------------------


class CountingTransport(httpx.BaseTransport):
    """A real transport that notes every request it is asked to send (an attempt to connect)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[tuple[str, frozenset[str]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        self.sent.append((request.url.path.rsplit("/", 1)[-1], frozenset(form) - {"v", "access_token"}))
        return self.inner.handle_request(request)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_check_connection_with_sferum_unreachable_answers_in_russian_with_one_attempt_per_credential(
    host: FakeHost,
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    host.settings.stored["sferum"] = {
        "app_id": "51234567", "service_token": "s" * 20, "app_token": "a" * 20, "api_base_url": url,
        "id_base_url": url,
    }  # fmt: skip
    transport = CountingTransport()
    # The module's own retry policy for its work repeats a connect error 4 times; the check must not.
    sferum = SferumAccess(SferumConnector(transport=transport, retry=NO_WAIT))
    admin = Viewer(user_id=1, username="admin", full_name="Админ", roles=frozenset({"admin"}))
    page = connection_check.check_connection(HttpRequest(method="POST", path="/", viewer=admin, host=host), sferum)
    assert sorted(transport.sent, key=repr) == sorted(
        [("apps.get", frozenset()), ("apps.get", frozenset({"app_id"})), ("users.get", frozenset())], key=repr
    )
    details = re.findall(r"<td>([^<]*)</td>\s*</tr>", page.body_html)
    assert len(details) == 3
    for text in details:
        assert "Сферум не отвечает по адресу API" in text, text
        assert not LATIN.search(text.replace("API", "")), text


def test_check_connection_answers_in_english_for_an_english_reader(host: FakeHost) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    host.settings.stored["sferum"] = {
        "app_id": "51234567", "service_token": "s" * 20, "app_token": "a" * 20, "api_base_url": url,
        "id_base_url": url,
    }  # fmt: skip
    admin = Viewer(user_id=1, username="admin", full_name="Admin", roles=frozenset({"admin"}), locale="en")
    page = connection_check.check_connection(
        HttpRequest(method="POST", path="/", viewer=admin, host=host), no_wait_access()
    )
    assert "Sferum does not answer at the API address" in page.body_html
    assert "Service token" in page.body_html


def test_a_quota_during_the_check_is_reported_with_its_end(host: FakeHost) -> None:
    def flood(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": {"error_code": 9, "error_msg": "Flood control"}})

    host.settings.stored["sferum"] = {
        "app_id": "51234567", "service_token": "s" * 20, "app_token": "a" * 20,
        "api_base_url": "http://sferum.test", "id_base_url": "http://sferum.test",
    }  # fmt: skip
    admin = Viewer(user_id=1, username="admin", full_name="Админ", roles=frozenset({"admin"}))
    page = connection_check.check_connection(
        HttpRequest(method="POST", path="/", viewer=admin, host=host),
        SferumAccess(SferumConnector(transport=httpx.MockTransport(flood))),
    )
    assert "Проверить не удалось: Сферум временно ограничил число запросов организации" in page.body_html
    assert "Flood" not in page.body_html
    assert re.search(r"Попробуйте снова после \d\d\.\d\d\.\d{4} \d\d:\d\d", page.body_html)


# -- one place: every gateway error, each kind of caller ----------------------------------------------------------

SAMPLES: list[SferumError] = [
    *(api_error_class(code)(code, "VK's own English", method="m") for code in (1, 5, 6, 10, 15, 100, 113, 917, 925,
                                                                            927, 935, 936, 999, 4242)),
    QuotaExceededError(9, "Flood control", retry_after=600, resume_at=datetime(2026, 11, 30, 7, 10, tzinfo=UTC)),
    QuotaExceededError(29, "Rate limit reached", retry_after=3600, resume_at=datetime(2026, 11, 30, 8, tzinfo=UTC)),
    TransportError("connect failed", request_sent=False),
    ServerError("bad gateway", status_code=502),
    ServerError("slow down", status_code=429),
    MalformedResponseError("not JSON"),
    OutcomeUnknownError("lost"),
    VkIdError("invalid_grant", "code expired"),
]  # fmt: skip


@pytest.mark.parametrize("retry", list(Retry))
@pytest.mark.parametrize("error", SAMPLES, ids=repr)
def test_every_error_reads_in_the_ui_language_and_promises_a_retry_only_when_one_comes(
    error: SferumError, retry: Retry
) -> None:
    explanation = explain(error, retry=retry)
    russian = explanation.text("ru", ORG_TZ)
    english = explanation.text("en", ORG_TZ)
    assert not LATIN.search(russian.replace("VK ID", "")), russian
    assert not re.search("[А-Яа-яЁё]", english), english
    promises = "будет повторена" in russian or "продолжится сама" in russian or "повторит её" in russian
    assert promises == explanation.will_retry
    assert not (explanation.will_retry and retry is not Retry.AUTOMATIC)
    if isinstance(error, QuotaExceededError) and retry is not Retry.GIVEN_UP:
        assert moment_text(error.resume_at, ORG_TZ) in russian  # «приостановлена до …» names the time
