"""The people a fresh MAX sandbox holds: ten students and teachers of the demo university, none of whom has started
the bot yet (the bot can write to a person only after they press Start)."""

from __future__ import annotations

from ._state import MaxState, MaxUser

DEMO_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("Анна", "Иванова", "anna_ivanova"),
    ("Борис", "Петров", "boris_petrov"),
    ("Виктория", "Смирнова", "v_smirnova"),
    ("Глеб", "Кузнецов", "gleb_k"),
    ("Дарья", "Соколова", "daria_sokolova"),
    ("Егор", "Попов", "egor_popov"),
    ("Жанна", "Лебедева", "zh_lebedeva"),
    ("Захар", "Козлов", "zakhar_kozlov"),
    ("Ирина", "Новикова", "irina_novikova"),
    ("Кирилл", "Морозов", "kirill_morozov"),
)


def seed_demo_people(state: MaxState, now: int) -> None:
    """Fill an empty ``state`` with :data:`DEMO_PEOPLE` (ids from ``state.next_user_id`` on)."""
    for first_name, last_name, username in DEMO_PEOPLE:
        user = MaxUser(state.next_user_id, first_name, last_name, username, last_activity_time=now)
        state.users[user.user_id] = user
        state.next_user_id += 1
