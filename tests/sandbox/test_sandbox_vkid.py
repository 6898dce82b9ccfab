"""VK ID: the authorisation-code flow with PKCE, the consent page and the token endpoint."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_SERVICE_TOKEN

REDIRECT = "http://lms.example/sferum/callback?tab=profile"
ANNA = 1001


def challenge_of(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)  # 64 characters of a-z A-Z 0-9 _ -, the alphabet VK ID allows
    return verifier, challenge_of(verifier)


def authorize_params(challenge, **overrides):
    params = {
        "response_type": "code",
        "client_id": str(DEFAULT_APP_ID),
        "redirect_uri": REDIRECT,
        "state": "state-" + "x" * 32,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "vkid.personal_info",
    }
    params.update(overrides)
    return params


def consent_nonce(page):
    match = re.search(r'name="nonce" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def redirect_query(response):
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://lms.example/sferum/callback?tab=profile&")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def authorize(http, challenge, form=None):
    page = http.get("/authorize", params=authorize_params(challenge))
    assert page.status_code == 200
    data = {"nonce": consent_nonce(page.text), "decision": "allow", "user_id": str(ANNA)}
    data.update(form or {})
    return redirect_query(http.post("/authorize", data=data))


def exchange(http, code, verifier, device, **overrides):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "device_id": device,
        "redirect_uri": REDIRECT,
        "client_id": str(DEFAULT_APP_ID),
    }
    form.update(overrides)
    return http.post("/oauth2/auth", data=form)


def test_full_flow_links_a_person_and_the_token_works(http, api, service_api):
    verifier, challenge = pkce_pair()

    granted = authorize(http, challenge)
    assert granted["state"] == "state-" + "x" * 32
    assert granted["type"] == "code_v2"
    reply = exchange(http, granted["code"], verifier, granted["device_id"])

    assert reply.status_code == 200
    tokens = reply.json()
    assert set(tokens) == {
        "access_token",
        "refresh_token",
        "id_token",
        "token_type",
        "expires_in",
        "user_id",
        "state",
        "scope",
    }
    assert (tokens["token_type"], tokens["user_id"], tokens["scope"]) == ("Bearer", ANNA, "vkid.personal_info")
    assert api.ok("users.get", access_token=tokens["access_token"])[0]["id"] == ANNA
    assert service_api.ok("secure.checkToken", token=tokens["access_token"])["user_id"] == ANNA


def test_id_token_is_a_jwt_about_the_user(http):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    id_token = exchange(http, granted["code"], verifier, granted["device_id"]).json()["id_token"]

    header, claims, signature = id_token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert decoded["sub"] == str(ANNA)
    assert decoded["aud"] == str(DEFAULT_APP_ID)
    import hmac

    expected = hmac.new(DEFAULT_SERVICE_TOKEN.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64encode(expected).rstrip(b"=").decode() == signature


def test_new_educational_profile_can_be_created_on_the_consent_page(http, sandbox):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge, {"decision": "create", "first_name": "Олег", "last_name": "Сидоров"})
    tokens = exchange(http, granted["code"], verifier, granted["device_id"]).json()
    created = next(u for u in sandbox.state()["users"] if u["id"] == tokens["user_id"])
    assert (created["first_name"], created["last_name"]) == ("Олег", "Сидоров")


def test_cancel_redirects_with_access_denied(http):
    _, challenge = pkce_pair()
    page = http.get("/authorize", params=authorize_params(challenge))
    denied = redirect_query(http.post("/authorize", data={"nonce": consent_nonce(page.text), "decision": "cancel"}))
    assert denied["error"] == "access_denied"
    assert denied["error_description"]
    assert denied["state"] == "state-" + "x" * 32
    assert "code" not in denied


def test_wrong_verifier_is_refused(http):
    _, challenge = pkce_pair()
    granted = authorize(http, challenge)
    other_verifier, _ = pkce_pair()
    reply = exchange(http, granted["code"], other_verifier, granted["device_id"])
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_grant"


def test_code_is_single_use(http):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    assert exchange(http, granted["code"], verifier, granted["device_id"]).status_code == 200
    again = exchange(http, granted["code"], verifier, granted["device_id"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_code_expires_after_ten_minutes(http, clock):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    clock.advance(600)
    reply = exchange(http, granted["code"], verifier, granted["device_id"])
    assert (reply.status_code, reply.json()["error"]) == (400, "invalid_grant")
    assert "expired" in reply.json()["error_description"]


def test_code_just_before_expiry_is_accepted(http, clock):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    clock.advance(599)
    assert exchange(http, granted["code"], verifier, granted["device_id"]).status_code == 200


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"redirect_uri": "http://evil.example/cb"}, "invalid_grant"),
        ({"device_id": "another-device"}, "invalid_grant"),
        ({"client_id": "1"}, "invalid_client"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"code_verifier": ""}, "invalid_request"),
        ({"code_verifier": "short"}, "invalid_request"),
    ],
)
def test_mismatched_token_requests_are_refused(http, override, error):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    reply = exchange(http, granted["code"], verifier, granted["device_id"], **override)
    assert (reply.status_code, reply.json()["error"]) == (400, error)
    # A refused attempt does not burn the code for its rightful owner.
    assert exchange(http, granted["code"], verifier, granted["device_id"]).status_code == 200


def test_refresh_token_rotates(http, api):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    first = exchange(http, granted["code"], verifier, granted["device_id"]).json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": str(DEFAULT_APP_ID),
        "device_id": granted["device_id"],
    }
    second = http.post("/oauth2/auth", data=form)
    assert second.status_code == 200
    assert second.json()["access_token"] != first["access_token"]
    assert api.ok("users.get", access_token=second.json()["access_token"])[0]["id"] == ANNA
    assert http.post("/oauth2/auth", data=form).json()["error"] == "invalid_grant"


def test_unknown_client_gets_an_error_page_not_a_redirect(http):
    _, challenge = pkce_pair()
    page = http.get("/authorize", params=authorize_params(challenge, client_id="42"))
    assert page.status_code == 400
    assert "location" not in page.headers


def test_relative_redirect_uri_gets_an_error_page(http):
    _, challenge = pkce_pair()
    assert http.get("/authorize", params=authorize_params(challenge, redirect_uri="/cb")).status_code == 400


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"state": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_authorization_requests_redirect_with_an_error(http, override, error):
    _, challenge = pkce_pair()
    assert redirect_query(http.get("/authorize", params=authorize_params(challenge, **override)))["error"] == error


def test_forged_consent_post_without_the_nonce_is_refused(http):
    for data in ({"decision": "allow", "user_id": str(ANNA)}, {"decision": "allow", "nonce": "guess"}):
        reply = http.post("/authorize", data=data)
        assert reply.status_code == 400
        assert "location" not in reply.headers


def test_consent_nonce_is_single_use(http):
    _, challenge = pkce_pair()
    nonce = consent_nonce(http.get("/authorize", params=authorize_params(challenge)).text)
    assert http.post("/authorize", data={"nonce": nonce, "decision": "allow", "user_id": str(ANNA)}).status_code == 302
    assert http.post("/authorize", data={"nonce": nonce, "decision": "allow", "user_id": str(ANNA)}).status_code == 400


def test_consent_page_escapes_names_and_scope(http, sandbox):
    sandbox.add_user("<script>alert(1)</script>", "O'Hara")
    _, challenge = pkce_pair()
    page = http.get("/authorize", params=authorize_params(challenge, scope='"><img src=x onerror=alert(1)>'))
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img" not in page.text
    assert page.headers["x-frame-options"] == "DENY"


def test_empty_new_profile_name_shows_the_form_again(http):
    _, challenge = pkce_pair()
    nonce = consent_nonce(http.get("/authorize", params=authorize_params(challenge)).text)
    reply = http.post("/authorize", data={"nonce": nonce, "decision": "create", "first_name": " ", "last_name": "X"})
    assert reply.status_code == 200
    assert "Enter a first and a last name" in reply.text
    assert consent_nonce(reply.text) == nonce


def test_nobody_signs_in_as_the_organisation_account(http):
    _, challenge = pkce_pair()
    page = http.get("/authorize", params=authorize_params(challenge)).text
    assert 'value="1000"' not in page
    reply = http.post("/authorize", data={"nonce": consent_nonce(page), "decision": "allow", "user_id": "1000"})
    assert reply.status_code == 200
    assert "Choose a profile" in reply.text


# -- the token endpoint as VK's own web SDK calls it (VKCOM/vkid-web-sdk, src/auth/auth.ts: exchangeCode and
#    refreshToken put every parameter but ``code`` / ``refresh_token`` in the query string of the POST)


def test_a_code_exchange_shaped_like_vk_web_sdk_is_accepted_and_answers_with_its_state(http, api):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    query = {
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "client_id": str(DEFAULT_APP_ID),
        "code_verifier": verifier,
        "state": "sdk-state-" + "y" * 38,  # the SDK sends a state of its own with the exchange
        "device_id": granted["device_id"],
    }

    reply = http.post("/oauth2/auth", params=query, data={"code": granted["code"]})

    assert reply.status_code == 200, reply.text
    tokens = reply.json()
    assert tokens["state"] == "sdk-state-" + "y" * 38
    assert api.ok("users.get", access_token=tokens["access_token"])[0]["id"] == ANNA


def test_each_token_parameter_may_come_from_the_query_or_the_body(http):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    form = {
        "grant_type": "authorization_code",
        "code": granted["code"],
        "code_verifier": verifier,
        "device_id": granted["device_id"],
        "redirect_uri": REDIRECT,
        "client_id": str(DEFAULT_APP_ID),
    }
    in_query = {key: form.pop(key) for key in ("client_id", "device_id")}

    reply = http.post("/oauth2/auth", params=in_query, data=form)

    assert reply.status_code == 200, reply.text
    assert reply.json()["state"] == "state-" + "x" * 32  # no state sent with the exchange: the authorization's


def test_a_refresh_shaped_like_vk_web_sdk_rotates_both_tokens_and_answers_with_its_state(http, api):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    first = exchange(http, granted["code"], verifier, granted["device_id"]).json()
    query = {
        "grant_type": "refresh_token",
        "redirect_uri": REDIRECT,
        "client_id": str(DEFAULT_APP_ID),
        "device_id": granted["device_id"],
        "state": "refresh-state-" + "z" * 34,
    }

    reply = http.post("/oauth2/auth", params=query, data={"refresh_token": first["refresh_token"]})

    assert reply.status_code == 200, reply.text
    second = reply.json()
    assert second["state"] == "refresh-state-" + "z" * 34
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert api.ok("users.get", access_token=second["access_token"])[0]["id"] == ANNA
    again = http.post("/oauth2/auth", params=query, data={"refresh_token": first["refresh_token"]})
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")  # the old one was used up
    third = http.post("/oauth2/auth", params=query, data={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"refresh_token": ""}, "invalid_request"),
        ({"refresh_token": "vk1.r.sandbox.never-issued"}, "invalid_grant"),
        ({"device_id": "another-device"}, "invalid_grant"),
        ({"device_id": ""}, "invalid_request"),
        ({"client_id": "1"}, "invalid_client"),
    ],
)
def test_refused_refreshes_answer_vk_id_errors_with_the_state_and_keep_the_token(http, override, error):
    verifier, challenge = pkce_pair()
    granted = authorize(http, challenge)
    refresh_token = exchange(http, granted["code"], verifier, granted["device_id"]).json()["refresh_token"]
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": str(DEFAULT_APP_ID),
        "device_id": granted["device_id"],
        "state": "s" * 43,
    }

    reply = http.post("/oauth2/auth", data={**form, **override})

    assert reply.status_code == 400
    assert (reply.json()["error"], reply.json()["state"]) == (error, "s" * 43)
    assert reply.json()["error_description"]
    assert http.post("/oauth2/auth", data=form).status_code == 200  # a refused attempt does not use it up


# -- PKCE as VK ID writes it: ``code_challenge_method=s256`` (VK ID's API description, "Справочник методов", and
#    the web SDK's CODE_CHALLENGE_METHOD) and verifiers of a-z A-Z 0-9 _ -, 43 to 128 characters


@pytest.mark.parametrize("method", ["s256", "S256"])
def test_the_challenge_method_is_accepted_as_vk_writes_it(http, method):
    verifier, challenge = pkce_pair()
    page = http.get("/authorize", params=authorize_params(challenge, code_challenge_method=method))
    assert page.status_code == 200, page.headers.get("location")
    data = {"nonce": consent_nonce(page.text), "decision": "allow", "user_id": str(ANNA)}
    granted = redirect_query(http.post("/authorize", data=data))
    assert exchange(http, granted["code"], verifier, granted["device_id"]).status_code == 200


@pytest.mark.parametrize("method", ["plain", "sha256", "S512", ""])
def test_other_challenge_methods_are_refused(http, method):
    _, challenge = pkce_pair()
    denied = redirect_query(http.get("/authorize", params=authorize_params(challenge, code_challenge_method=method)))
    assert denied["error"] == "invalid_request"


@pytest.mark.parametrize(
    "verifier",
    [
        "a" * 42 + ".",  # RFC 7636 allows "." and "~"; VK ID does not
        "~" + "b" * 60,
        "c" * 42,  # too short
        "d" * 129,  # too long
        "е" * 50,  # not ASCII
    ],
)
def test_verifiers_outside_vk_ids_alphabet_or_length_are_refused(http, verifier):
    granted = authorize(http, challenge_of(verifier))
    reply = exchange(http, granted["code"], verifier, granted["device_id"])
    assert (reply.status_code, reply.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize("verifier", ["A" * 43, "z_-9" * 32])
def test_verifiers_of_43_and_128_allowed_characters_are_accepted(http, verifier):
    granted = authorize(http, challenge_of(verifier))
    assert exchange(http, granted["code"], verifier, granted["device_id"]).status_code == 200
