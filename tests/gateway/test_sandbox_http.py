"""The gateway against the Sferum sandbox over real HTTP on 127.0.0.1 (free port), with faults injected."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN, Sandbox, serve

from sferum_plugin.gateway import (
    AuthError,
    GatewayConfig,
    InvalidClientError,
    InvalidGrantError,
    OutcomeUnknownError,
    QuotaExceededError,
    RateLimiter,
    RetryableApiError,
    RetryPolicy,
    SferumClient,
    UserNotInChatError,
    VkIdClient,
    check_credentials,
    operations,
    read_redirect,
)
from tests.gateway.fakes import FakeClock

REDIRECT_URI = "https://lms.example/sferum/callback"


@pytest.fixture
def sandbox_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(sandbox_clock: FakeClock) -> Sandbox:
    # The sandbox's own per-token limit (3/s) runs on the same fake clock as the gateway's limiter.
    return Sandbox(seed=0, rate_limit_per_second=3.0, clock=sandbox_clock, sleep=sandbox_clock.sleep)


@pytest.fixture
def sandbox_url(sandbox: Sandbox) -> Iterator[str]:
    with serve(sandbox) as running:
        yield running.url


@pytest.fixture
def sandbox_config(sandbox_url: str) -> GatewayConfig:
    return GatewayConfig(api_base_url=sandbox_url, id_base_url=sandbox_url, timeout_seconds=5.0)


@pytest.fixture
def real_http() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


@pytest.fixture
def paced(sandbox_clock: FakeClock) -> RateLimiter:
    return RateLimiter(3.0, 3, clock=sandbox_clock, sleep=sandbox_clock.sleep)


@pytest.fixture
def org(sandbox_config: GatewayConfig, real_http: httpx.Client, paced: RateLimiter, retry: RetryPolicy) -> SferumClient:
    """The organisation's client (application token)."""
    return SferumClient(sandbox_config, DEFAULT_APP_TOKEN, http=real_http, limiter=paced, retry=retry)


def _students(sandbox: Sandbox, count: int) -> list[int]:
    return [sandbox.add_user(f"Student{i}", "Testov") for i in range(count)]


def test_a_chat_lives_through_the_whole_api(org: SferumClient, sandbox: Sandbox) -> None:
    first, second, third = _students(sandbox, 3)

    chat = org.create_chat('Group "101" — spring', [first, second])
    org.add_chat_member(chat.chat_id, third)
    org.remove_chat_member(chat.chat_id, first)
    org.rename_chat(chat.chat_id, "Group 101")

    members = {m.member_id for m in org.list_chat_members(chat.chat_id)}
    assert members == {sandbox.org_user_id, second, third}
    info = org.get_chat(chat.chat_id)
    assert info is not None
    assert info.title == "Group 101"
    assert info.owner_id == sandbox.org_user_id
    assert [c.chat_id for c in org.search_chats("Group 101", exact_title=True)] == [chat.chat_id]
    assert org.get_invite_link(chat.chat_id).startswith("http")
    call = org.start_call()
    assert call.call_id is not None
    org.finish_call(call.call_id)
    assert {u.id for u in org.get_users([second, third])} == {second, third}
    assert org.get_token_owner().id == sandbox.org_user_id


@pytest.mark.parametrize("fault", [{"error_code": 6}, {"error_code": 10}, {"error_code": 1}, {"http_status": 502}])
def test_transient_faults_are_retried_until_success(org: SferumClient, sandbox: Sandbox, fault: dict[str, int]) -> None:
    chat = org.create_chat("Group 102", _students(sandbox, 1))
    sandbox.faults.inject("messages.editChat", times=2, **fault)  # type: ignore[arg-type]

    org.rename_chat(chat.chat_id, "Group 102 renamed")

    assert sandbox.request_counts()["messages.editChat"] == 3
    assert org.get_chat(chat.chat_id).title == "Group 102 renamed"  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [9, 29])
def test_quota_errors_stop_with_a_resume_time(org: SferumClient, sandbox: Sandbox, code: int) -> None:
    chat = org.create_chat("Group 103", [])
    sandbox.faults.inject("messages.addChatUser", error_code=code, times=5)

    with pytest.raises(QuotaExceededError) as caught:
        org.add_chat_member(chat.chat_id, _students(sandbox, 1)[0])

    assert caught.value.code == code
    assert caught.value.retry_after > 0
    assert caught.value.resume_at is not None
    assert sandbox.request_counts()["messages.addChatUser"] == 1


def test_permanent_errors_surface_after_one_request(
    org: SferumClient, sandbox: Sandbox, sandbox_config: GatewayConfig, real_http: httpx.Client, retry: RetryPolicy
) -> None:
    chat = org.create_chat("Group 104", [])
    outsider = _students(sandbox, 1)[0]

    with pytest.raises(UserNotInChatError):
        org.remove_chat_member(chat.chat_id, outsider)
    assert sandbox.request_counts()["messages.removeChatUser"] == 1

    stranger = SferumClient(sandbox_config, "not-a-real-token-000000", http=real_http, retry=retry)
    with pytest.raises(AuthError):
        stranger.get_token_owner()
    assert sandbox.request_counts()["users.get"] == 1


@pytest.mark.parametrize("fault", [{"drop_after_apply": True}, {"drop": True}], ids=["after-apply", "before-apply"])
def test_a_dropped_create_chat_is_an_unknown_outcome_sent_once(
    org: SferumClient, sandbox: Sandbox, fault: dict[str, bool]
) -> None:
    members = _students(sandbox, 2)
    sandbox.faults.inject("messages.createChat", **fault)

    with pytest.raises(OutcomeUnknownError):
        org.create_chat("Group 105", members)

    assert sandbox.request_counts()["messages.createChat"] == 1
    # Reconciling is the caller's move: the chat exists only when the fault struck after applying.
    found = org.search_chats("Group 105", exact_title=True)
    assert len(found) == (1 if "drop_after_apply" in fault else 0)


def test_a_dropped_connection_of_an_idempotent_call_is_retried(org: SferumClient, sandbox: Sandbox) -> None:
    chat = org.create_chat("Group 106", [])
    sandbox.faults.inject("messages.editChat", drop=True)

    org.rename_chat(chat.chat_id, "Group 106 renamed")

    assert sandbox.request_counts()["messages.editChat"] == 2


def test_a_batch_of_25_with_3_failing_members_maps_each_result(org: SferumClient, sandbox: Sandbox) -> None:
    students = _students(sandbox, 25)
    chat = org.create_chat("Group 107", students[:22])
    not_in_chat = students[22:]
    batch = [operations.remove_chat_member(chat.chat_id, s) for s in students]

    outcomes = org.execute_batch(batch)

    assert sandbox.request_counts()["execute"] == 1
    assert [o.operation for o in outcomes] == batch
    failed = {o.operation.params["user_id"]: o.error for o in outcomes if not o.ok}
    assert set(failed) == set(not_in_chat)
    assert all(isinstance(error, UserNotInChatError) for error in failed.values())
    assert {m.member_id for m in org.list_chat_members(chat.chat_id)} == {sandbox.org_user_id}


def test_a_batch_with_unknown_users_and_an_injected_inner_error(org: SferumClient, sandbox: Sandbox) -> None:
    students = _students(sandbox, 30)
    chat = org.create_chat("Group 108", [])
    unknown = [990_000_001, 990_000_002]
    sandbox.faults.inject("messages.addChatUser", error_code=15, times=1)
    batch = [operations.add_chat_member(chat.chat_id, u) for u in [*students[:10], *unknown, *students[10:]]]

    outcomes = org.execute_batch(batch)

    assert sandbox.request_counts()["execute"] == 2  # 32 operations: 25 + 7
    errors = [(o.operation.params["user_id"], o.error.code) for o in outcomes if o.error is not None]  # type: ignore[attr-defined]
    assert errors == [(students[0], 15), (unknown[0], 936), (unknown[1], 936)]
    members = {m.member_id for m in org.list_chat_members(chat.chat_id)}
    assert members == {sandbox.org_user_id, *students[1:]}


def test_a_batch_failing_as_a_whole_is_retried_as_a_unit(org: SferumClient, sandbox: Sandbox) -> None:
    chat = org.create_chat("Group 109", [])
    students = _students(sandbox, 3)
    sandbox.faults.inject("execute", error_code=6, times=1)
    sandbox.faults.inject("execute", http_status=503, times=1)

    outcomes = org.execute_batch([operations.add_chat_member(chat.chat_id, s) for s in students])

    assert all(o.ok for o in outcomes)
    assert sandbox.request_counts()["execute"] == 3


def test_the_limiter_keeps_a_burst_of_30_calls_within_the_rate(
    org: SferumClient, sandbox: Sandbox, sandbox_clock: FakeClock
) -> None:
    chat = org.create_chat("Group 110", [])
    sleeps_before = len(sandbox_clock.sleeps)
    start = sandbox_clock()

    for index in range(30):
        org.rename_chat(chat.chat_id, f"Group 110 #{index}")

    # The sandbox limits 3 requests per second per token on the same clock: no error 6, so no retries.
    assert sandbox.request_counts()["messages.editChat"] == 30
    assert len(sandbox_clock.sleeps) > sleeps_before, "the limiter waited (on the fake clock)"
    assert sandbox_clock() - start >= (30 - 3) / 3 - 1e-9


def test_without_pacing_the_sandbox_answers_too_many_requests(
    sandbox_config: GatewayConfig, real_http: httpx.Client, sandbox: Sandbox, sandbox_clock: FakeClock
) -> None:
    unpaced = RateLimiter(1000.0, 1000, clock=sandbox_clock, sleep=sandbox_clock.sleep)
    single_attempt = RetryPolicy(max_attempts=1)
    client = SferumClient(sandbox_config, DEFAULT_APP_TOKEN, http=real_http, limiter=unpaced, retry=single_attempt)

    def burst() -> None:
        for _ in range(10):
            client.get_token_owner()

    with pytest.raises(RetryableApiError) as caught:
        burst()

    assert caught.value.code == 6


def _authorize(sandbox_url: str, http: httpx.Client, vkid: VkIdClient, user_id: int) -> tuple[str, str, str]:
    """Walk the consent page as a browser would; return (code, device_id, verifier)."""
    request = vkid.start_authorization(REDIRECT_URI)
    consent = http.get(request.url)
    assert consent.status_code == 200
    nonce = re.search(r'name="nonce" value="([^"]+)"', consent.text)
    assert nonce is not None
    decision = http.post(
        f"{sandbox_url}/authorize", data={"nonce": nonce.group(1), "decision": "allow", "user_id": str(user_id)}
    )
    assert decision.status_code == 302
    location = urlsplit(decision.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    redirect = read_redirect(dict(parse_qsl(location.query)), expected_state=request.state)
    return redirect.code, redirect.device_id, request.code_verifier


def test_vk_id_links_a_profile_end_to_end(
    sandbox_url: str, sandbox_config: GatewayConfig, real_http: httpx.Client, sandbox: Sandbox, retry: RetryPolicy
) -> None:
    vkid = VkIdClient(sandbox_config, DEFAULT_APP_ID, http=real_http, retry=retry)
    student = sandbox.add_user("Анна", "Петрова")
    code, device_id, verifier = _authorize(sandbox_url, real_http, vkid, student)

    tokens = vkid.exchange_code(code=code, code_verifier=verifier, device_id=device_id, redirect_uri=REDIRECT_URI)

    assert tokens.user_id == student
    assert tokens.access_token not in repr(tokens)
    as_student = SferumClient(sandbox_config, tokens.access_token, http=real_http, retry=retry)
    assert as_student.get_token_owner().full_name == "Анна Петрова"
    assert tokens.refresh_token is not None
    refreshed = vkid.refresh_tokens(refresh_token=tokens.refresh_token, device_id=device_id)
    assert refreshed.user_id == student

    with pytest.raises(InvalidGrantError):  # a code works once
        vkid.exchange_code(code=code, code_verifier=verifier, device_id=device_id, redirect_uri=REDIRECT_URI)


def test_vk_id_refuses_a_wrong_verifier_and_a_wrong_client(
    sandbox_url: str, sandbox_config: GatewayConfig, real_http: httpx.Client, sandbox: Sandbox, retry: RetryPolicy
) -> None:
    vkid = VkIdClient(sandbox_config, DEFAULT_APP_ID, http=real_http, retry=retry)
    code, device_id, verifier = _authorize(sandbox_url, real_http, vkid, sandbox.add_user("Иван", "Иванов"))

    with pytest.raises(InvalidGrantError, match="code_verifier"):
        vkid.exchange_code(code=code, code_verifier="x" * 64, device_id=device_id, redirect_uri=REDIRECT_URI)
    with pytest.raises(InvalidClientError):
        VkIdClient(sandbox_config, 1, http=real_http, retry=retry).exchange_code(
            code=code, code_verifier=verifier, device_id=device_id, redirect_uri=REDIRECT_URI
        )
    # Failed attempts did not spend the code.
    assert vkid.exchange_code(code=code, code_verifier=verifier, device_id=device_id, redirect_uri=REDIRECT_URI)


def test_credentials_are_checked_against_the_sandbox(
    sandbox_config: GatewayConfig, real_http: httpx.Client, retry: RetryPolicy, paced: RateLimiter
) -> None:
    def verdicts(app_id: int, service: str, app_token: str) -> dict[str, bool]:
        checks = check_credentials(
            sandbox_config,
            app_id=app_id,
            service_token=service,
            app_token=app_token,
            http=real_http,
            retry=retry,
            limiter=paced,
        )
        return {c.credential: c.ok for c in checks}

    assert verdicts(DEFAULT_APP_ID, DEFAULT_SERVICE_TOKEN, DEFAULT_APP_TOKEN) == dict.fromkeys(
        ("app_id", "service_token", "app_token"), True
    )
    assert verdicts(DEFAULT_APP_ID + 1, DEFAULT_SERVICE_TOKEN, DEFAULT_APP_TOKEN)["app_id"] is False
    assert verdicts(DEFAULT_APP_ID, "wrong-service-token-000", DEFAULT_APP_TOKEN)["service_token"] is False
    assert verdicts(DEFAULT_APP_ID, DEFAULT_SERVICE_TOKEN, "wrong-app-token-00000")["app_token"] is False
    # The two tokens swapped: each is named.
    swapped = verdicts(DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN)
    assert swapped["app_token"] is False


def test_no_token_reaches_the_logs_or_errors(
    org: SferumClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    chat = org.create_chat("Group 111", [])
    sandbox.faults.inject("messages.editChat", error_code=10, times=1)
    sandbox.faults.inject("messages.createChat", drop_after_apply=True)
    org.rename_chat(chat.chat_id, "Group 111 renamed")
    raised = []
    for action in (
        lambda: org.create_chat("Group 112", []),
        lambda: org.remove_chat_member(chat.chat_id, 990_000_001),
    ):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - any gateway error; the text is what matters
            action()
        raised.append(caught.value)

    for secret in (DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN):
        assert secret not in caplog.text
        for error in raised:
            assert secret not in str(error)
            assert secret not in repr(error)
            assert secret not in str(getattr(error, "request_params", ""))


def test_the_sandbox_also_runs_in_process_through_wsgi(retry: RetryPolicy, limiter: RateLimiter) -> None:
    sandbox = Sandbox(seed=1, rate_limit_per_second=None)
    config = GatewayConfig(api_base_url="http://sandbox.local")
    with httpx.Client(transport=httpx.WSGITransport(app=sandbox.wsgi_app)) as http:
        org = SferumClient(config, DEFAULT_APP_TOKEN, http=http, limiter=limiter, retry=retry)
        student = sandbox.add_user("Пётр", "Сидоров")
        chat = org.create_chat("Group 201", [student])
        members = {m.member_id for m in org.list_chat_members(chat.chat_id)}
        sandbox.faults.inject("calls.start", drop_after_apply=True)

        with pytest.raises(OutcomeUnknownError):
            org.start_call()

    assert members == {sandbox.org_user_id, student}
    assert sandbox.request_counts()["calls.start"] == 1
    assert len(sandbox.state()["calls"]) == 1  # applied: the lesson's call exists although the reply was lost
