"""What masking secrets costs as profiles are linked: one registration, and one log line, against the secrets held.

Each profile link goes through the real code path (``SferumConnector`` → VK ID code exchange → the user's own client
reading the profile's name), over ``httpx.MockTransport`` answering like VK ID and the VK API.  A link hands the
gateway five short-lived secrets: the PKCE verifier, the code, the user's access, refresh and ID tokens.  After every
``--step`` links the script prints how many secrets the process-wide registry holds, what registering (and, where
secrets are scoped, releasing) one more secret costs, and what masking one ordinary log line costs.

Run: ``python benchmarks/redaction.py [--links 1000 --step 250]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sferum_plugin.gateway import GatewayConfig, redact
from sferum_plugin.gateway.connector import SferumConnector

APP_ID = 51234567
LINE = "POST messages.addChatUser {'chat_id': '7', 'user_id': '1234567', 'v': '5.199'} took 0.12 s"
"""An ordinary debug line of the gateway: no secret in it, so every registered secret is searched for in vain."""


class FakeVk:
    """VK ID's token endpoint and ``users.get``: each code is exchanged for a fresh user's tokens."""

    def __init__(self) -> None:
        self.users = itertools.count(1_000_000)
        self.owners: dict[str, int] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        if request.url.path == "/oauth2/auth":
            user_id = next(self.users)
            access = f"vk2.a.{secrets.token_urlsafe(48)}"
            self.owners[access] = user_id
            body = {"access_token": access, "refresh_token": f"vk2.r.{secrets.token_urlsafe(48)}",
                    "id_token": f"{secrets.token_urlsafe(16)}.{secrets.token_urlsafe(48)}.sig",
                    "token_type": "Bearer", "expires_in": 3600, "user_id": user_id}  # fmt: skip
            return httpx.Response(200, json=body)
        user_id = self.owners[form["access_token"]]
        return httpx.Response(200, json={"response": [{"id": user_id, "first_name": "U", "last_name": str(user_id)}]})


def link_profile(connector: SferumConnector, config: GatewayConfig) -> None:
    """One profile link, as ``services.connection.GatewayProfiles`` does it."""
    with connector.connect(config) as connection:
        vkid = connection.vkid(APP_ID)
        request = vkid.start_authorization("https://lms.test/sferum/callback")
        tokens = vkid.exchange_code(
            code=secrets.token_urlsafe(32),
            code_verifier=request.code_verifier,
            device_id="device",
            redirect_uri=request.redirect_uri,
        )
        connection.client(tokens.access_token).get_token_owner()


def per_call(action: Callable[[], object], repeat: int) -> float:
    """Median seconds of one call of ``action``."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def register_one() -> None:
    """Register one more short-lived secret the way the gateway does, and let it go again where it can."""
    with redact.secret_scope() as scope:
        scope.add(secrets.token_urlsafe(48))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--step", type=int, default=250)
    args = parser.parse_args(argv)
    connector = SferumConnector(transport=httpx.MockTransport(FakeVk()))
    config = GatewayConfig(api_base_url="https://api.vk.test", id_base_url="https://id.vk.test")
    print("| profiles linked | secrets held | one registration | one log line |")
    print("|---|---|---|---|")
    linked = 0
    while True:
        registration = per_call(register_one, 5)
        line = per_call(lambda: redact.redact_text(LINE), 200)
        print(f"| {linked} | {redact.secrets_held()} | {registration * 1e3:.3f} ms | {line * 1e3:.4f} ms |")
        if linked >= args.links:
            break
        for _ in range(args.step):
            link_profile(connector, config)
            linked += 1
    print(json.dumps({"profiles": linked, "secrets_held": redact.secrets_held()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
