"""Who a mailing is for: the list's selection or its current filter, and the «Учебный профиль Сферум» filter.

The host's «Действия» POST carries the selected ``ids`` and the list's filter as ``filter.<name>``.  With a
selection the audience is exactly those people; without one it is everyone the list shows for the filter (every
page), the module's own profile filter applied.  Each step is one bulk call, whatever the audience's size.

An audience is never wider than the list that was shown: :func:`check_choice` refuses a choice the module cannot
apply exactly — a filter it does not know (the host's ``list_people`` ignores unknown names, which would drop the
filter and mean everyone), a value the list cannot hold (a unit or group that is not there, a non-ASCII id, a status
or profile choice that does not exist), or ticked ids none of which can be read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from hookspecs.services import Host
from hookspecs.types import DirectoryFilter, Person, PersonKind, PersonStatus
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.numbers import parse_int
from sferum_plugin.services.profiles import links_by_user
from sferum_plugin.settings import configured_account

__all__ = [
    "HOST_FILTERS",
    "PROFILE_FILTER",
    "PROFILE_LINKED",
    "PROFILE_MISSING",
    "SECTIONS",
    "Audience",
    "ChoiceRefused",
    "check_choice",
    "describe",
    "describe_choice",
    "filter_by_profile",
    "profile_filter",
    "resolve_audience",
]

PROFILE_FILTER = "sferum_profile"
PROFILE_MISSING = "none"
PROFILE_LINKED = "linked"

SECTIONS: Mapping[str, PersonKind] = {"students": PersonKind.STUDENT, "employees": PersonKind.EMPLOYEE}
"""The host lists a mailing can be made from, and the register each shows."""

HOST_FILTERS: Mapping[str, tuple[str, ...]] = {
    "students": ("q", "status", "group"),
    "employees": ("q", "status", "unit"),
}
"""The host lists' own filters (``Directory.list_people``): search text, status, and the group or unit id."""


class ChoiceRefused(ValueError):
    """The audience's choice cannot be applied exactly; ``field`` names the form field, ``reason`` is a Russian
    source string (translated where it is shown)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@attrs.frozen
class Audience:
    """The people a mailing is for, in list order, and how they were chosen (for the mailing's record)."""

    section: str
    people: tuple[Person, ...]
    selected: bool
    filters: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def without_email(self) -> int:
        """How many have no e-mail address (they will be skipped)."""
        return sum(1 for person in self.people if not person.email.strip())


def profile_filter(locale: str) -> DirectoryFilter:
    """The «Учебный профиль Сферум» filter of the Обучающиеся and Сотрудники lists."""
    return DirectoryFilter(
        name=PROFILE_FILTER,
        label=gettext(locale, "Учебный профиль Сферум"),
        choices=(
            (PROFILE_MISSING, gettext(locale, "Без учебного профиля Сферум")),
            (PROFILE_LINKED, gettext(locale, "С профилем")),
        ),
    )


def filter_by_profile(host: Host, value: str, people: Sequence[Person]) -> list[int] | None:
    """The ids of ``people`` with (``linked``) or without (``none``) a linked profile; ``None`` for other values."""
    if value not in (PROFILE_MISSING, PROFILE_LINKED):
        return None
    user_ids = {person.user_id for person in people if person.user_id is not None}
    account = configured_account(host.settings.get(MODULE_NAME))
    linked: set[int] = set()
    if account is not None and user_ids:
        with host.db.session() as session:
            linked = set(links_by_user(session, account=account, user_ids=user_ids))
    wanted = value == PROFILE_LINKED
    return [person.id for person in people if (person.user_id in linked) == wanted]


def _ids(values: Iterable[str]) -> list[int]:
    return [n for n in map(parse_int, values) if n is not None]


def _filter_problem(host: Host, section: str, name: str, value: str) -> str | None:
    """Why ``filter.<name>=value`` cannot be applied to the ``section`` list, or ``None`` when it can."""
    if name not in (*HOST_FILTERS[section], PROFILE_FILTER):
        return N_("список не знает такого фильтра")
    if name == "q":
        return N_("текст поиска содержит недопустимый символ") if "\x00" in value else None
    if not value:
        return None  # the empty choice: not filtered
    if name == "status":
        return None if value in {status.value for status in PersonStatus} else N_("такого статуса нет")
    if name == PROFILE_FILTER:
        return None if value in (PROFILE_MISSING, PROFILE_LINKED) else N_("такого значения фильтра нет")
    number = parse_int(value)
    if name == "group":
        return None if number is not None and number in host.directory.groups([number]) else N_("такой группы нет")
    return None if number is not None and number in host.directory.units([number]) else N_("такого подразделения нет")


def check_choice(host: Host, section: str, ids: Iterable[str], filters: Mapping[str, str]) -> None:
    """Refuse a choice of audience that cannot be applied exactly (see the module's docstring).

    :raises ChoiceRefused: naming the first field at fault (``filter.<name>`` or ``ids``).
    """
    given = [value for value in ids if value.strip()]
    if given and not _ids(given):
        raise ChoiceRefused("ids", N_("отмеченные люди переданы в неверном виде"))
    if section not in SECTIONS:
        return
    for name, value in sorted(filters.items()):
        reason = _filter_problem(host, section, name, value)
        if reason is not None:
            raise ChoiceRefused(f"filter.{name}", reason)


def resolve_audience(host: Host, section: str, ids: Iterable[str], filters: Mapping[str, str]) -> Audience | None:
    """The audience of a mailing from a «Действия» POST; ``None`` for a section that has no people.

    :raises ChoiceRefused: the choice cannot be applied exactly (:func:`check_choice`).
    """
    kind = SECTIONS.get(section)
    if kind is None:
        return None
    check_choice(host, section, ids, filters)
    selected = _ids(ids)
    if selected:
        found = host.directory.people(kind, selected)
        people = sorted(found.values(), key=lambda person: (person.full_name, person.id))
        return Audience(section=section, people=tuple(people), selected=True, filters=dict(filters))
    listed = list(host.directory.list_people(kind, filters))
    profile = filters.get(PROFILE_FILTER, "")
    if profile:
        passing = filter_by_profile(host, profile, listed)
        assert passing is not None, "check_choice let only the profile filter's own values through"
        keep = set(passing)
        listed = [person for person in listed if person.id in keep]
    return Audience(section=section, people=tuple(listed), selected=False, filters=dict(filters))


def describe(audience: Audience, locale: str) -> str:
    """A line saying how the audience was chosen, kept with the mailing."""
    return describe_choice(
        audience.section, len(audience.people) if audience.selected else None, audience.filters, locale
    )


def describe_choice(section: str, selected: int | None, filters: Mapping[str, str], locale: str) -> str:
    """The same line from the choice alone: ``selected`` people ticked, or (``None``) the list's ``filters``."""
    title = gettext(locale, "Обучающиеся") if section == "students" else gettext(locale, "Сотрудники")
    if selected is not None:
        return f"{title}: " + gettext(locale, "выбранные в списке") + f" ({selected})"
    profile = profile_filter(locale)
    labels = dict(profile.choices)
    shown = ", ".join(
        f"{profile.label}: {labels.get(value, value)}" if name == PROFILE_FILTER else f"{name}={value}"
        for name, value in sorted(filters.items())
        if value
    )
    return f"{title}: " + gettext(locale, "фильтр списка") + (f" ({shown})" if shown else "")
