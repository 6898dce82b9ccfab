"""Russian is the source language; every string the module shows has an English translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface

from sferum_plugin.i18n import gettext, translations

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", "-k", "gettext:2", "-k", "t",
         "-o", str(pot), str(ROOT)]
    )  # fmt: skip
    from babel.messages.pofile import read_po

    with pot.open("rb") as fp:
        return [message.id for message in read_po(fp) if message.id]


def test_every_shown_string_has_an_english_translation(extracted: list[str]) -> None:
    assert len(extracted) > 50
    english = translations("en")
    untranslated = [message for message in extracted if english.gettext(message) == message]
    assert untranslated == []


def test_russian_is_the_source_and_unknown_locales_fall_back_to_it() -> None:
    assert gettext("ru", "Онлайн-занятия") == "Онлайн-занятия"
    assert gettext("de", "Онлайн-занятия") == "Онлайн-занятия"
    assert gettext("en", "Онлайн-занятия") == "Online lessons"
