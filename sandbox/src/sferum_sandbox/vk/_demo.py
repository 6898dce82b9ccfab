"""The pre-seeded demo organisation: its own account (owner of the application token) and ten people."""

from __future__ import annotations

from ._state import ORG_ACCOUNT_ID, TOKEN_SERVICE, TOKEN_USER, AccessToken, SferumState

ORG_ACCOUNT_NAME = ("Демо-университет", "Организация")

DEMO_PEOPLE: tuple[tuple[str, str], ...] = (
    ("Анна", "Иванова"),
    ("Борис", "Петров"),
    ("Виктория", "Смирнова"),
    ("Глеб", "Кузнецов"),
    ("Дарья", "Соколова"),
    ("Егор", "Попов"),
    ("Жанна", "Лебедева"),
    ("Захар", "Козлов"),
    ("Ирина", "Новикова"),
    ("Кирилл", "Морозов"),
)


def seed_demo_organisation(state: SferumState, *, app_token: str, service_token: str, now: int) -> None:
    """Fill an empty ``state`` with the organisation account, the demo people and the two app tokens."""
    org = state.add_user(*ORG_ACCOUNT_NAME)
    assert org.id == ORG_ACCOUNT_ID
    for first_name, last_name in DEMO_PEOPLE:
        state.add_user(first_name, last_name)
    # The application token acts for the organisation account; the schema's calls.* and addChatUser
    # accept only user tokens, so it is a user token of that account.
    state.tokens[app_token] = AccessToken(app_token, TOKEN_USER, ORG_ACCOUNT_ID, now)
    state.tokens[service_token] = AccessToken(service_token, TOKEN_SERVICE, None, now)
