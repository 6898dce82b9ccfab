"""Module settings forms: the fields, generic validation, plugin validation and saving.

The settings page and ``flask modules configure`` share this code, so both validate the same way and both
store secrets encrypted.  Nothing is stored unless every check passes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import attrs

from hookspecs.types import FieldError, SettingsField
from lms_host.cabinet import Cabinet
from lms_host.host_modules import host_fields
from lms_host.i18n import gettext as _
from lms_host.plugins import flatten

__all__ = [
    "SettingsOutcome",
    "current_values",
    "secret_hint",
    "settings_fields",
    "submit_settings",
    "validate_generic",
]

_TRUE = frozenset({"1", "true", "on", "yes"})
_INTEGER = re.compile(r"-?[0-9]+")


@attrs.frozen
class SettingsOutcome:
    """The result of submitting a settings form.

    :param errors: what is wrong, by field; empty when the values were stored.
    :param values: the submitted values to show again (secrets blanked).
    """

    errors: tuple[FieldError, ...]
    values: Mapping[str, str]

    @property
    def saved(self) -> bool:
        """Whether the values were stored."""
        return not self.errors


def settings_fields(cabinet: Cabinet, module: str) -> list[SettingsField]:
    """The form of ``module``: the host's own fields first, then the installed plugins' contributions."""
    backends = cabinet.chat_backends() if module == "main" else []
    fields = host_fields(module, backends)
    fields.extend(flatten(cabinet.call("lms_settings_fields", module=module)))
    unique: dict[str, SettingsField] = {}
    for field in fields:
        # Two plugins contributing the same key would overwrite each other's value: the first one wins.
        unique.setdefault(field.name, field)
    return list(unique.values())


def current_values(cabinet: Cabinet, module: str, fields: Sequence[SettingsField]) -> dict[str, str]:
    """The stored values of the form's fields, defaults for fields never saved."""
    stored = cabinet.settings.get(module)
    return {field.name: stored.get(field.name, field.default) for field in fields}


def secret_hint(value: str) -> str:
    """A masked hint of a stored secret: its last four characters, only when that reveals little."""
    if not value:
        return ""
    return "••••" + value[-4:] if len(value) >= 12 else "••••"


def _normalise(field: SettingsField, raw: str | None, stored: str) -> str:
    if field.type == "boolean":
        return "1" if (raw or "").strip().lower() in _TRUE else "0"
    value = (raw or "").strip()
    if field.secret and not value:
        return stored
    return value


def validate_generic(fields: Sequence[SettingsField], values: Mapping[str, str]) -> list[FieldError]:
    """Check required, integer, URL, length and choice rules."""
    errors: list[FieldError] = []
    for field in fields:
        value = values.get(field.name, "")
        if not value:
            if field.required:
                errors.append(FieldError(field.name, _("Обязательное поле.")))
            continue
        if len(value) > field.max_length:
            errors.append(FieldError(field.name, _("Не длиннее %(count)s символов.", count=field.max_length)))
        elif field.type == "integer" and not _is_integer(value):
            errors.append(FieldError(field.name, _("Введите целое число.")))
        elif field.type == "url" and not _is_web_url(value):
            errors.append(FieldError(field.name, _("Введите адрес, начинающийся с http:// или https://.")))
        elif field.type == "choice" and value not in {choice for choice, _label in field.choices}:
            errors.append(FieldError(field.name, _("Выберите значение из списка.")))
    return errors


def _is_integer(value: str) -> bool:
    """ASCII digits with an optional minus: not ``int``'s ``"+1"``, ``"1_000"`` or other scripts' digits."""
    return _INTEGER.fullmatch(value) is not None


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def submit_settings(
    cabinet: Cabinet, module: str, submitted: Mapping[str, str], *, partial: bool = False
) -> SettingsOutcome:
    """Validate ``submitted`` values of ``module`` and store them if every check passes.

    :param submitted: raw form values by field name (a blank secret keeps the stored one).
    :param partial: fields absent from ``submitted`` keep their current values (the CLI); otherwise an absent
        field is blank (a form, where an unchecked checkbox is simply absent).
    """
    fields = settings_fields(cabinet, module)
    stored = current_values(cabinet, module, fields)
    values: dict[str, str] = {}
    for field in fields:
        if partial and field.name not in submitted:
            values[field.name] = stored[field.name]
        else:
            values[field.name] = _normalise(field, submitted.get(field.name), stored[field.name])
    errors = validate_generic(fields, values)
    known = {field.name for field in fields}
    errors.extend(flatten(cabinet.call("lms_settings_validate", module=module, values=dict(values), host=cabinet.host)))
    unknown = sorted(set(submitted) - known) if partial else []
    errors.extend(FieldError(name, _("Такой настройки нет.")) for name in unknown)
    shown = {field.name: ("" if field.secret else values[field.name]) for field in fields}
    if errors:
        return SettingsOutcome(errors=tuple(errors), values=shown)
    secret_names = {field.name for field in fields if field.secret}
    # A secret submitted blank is left untouched in the database (not even re-encrypted).
    changed = {
        name: value for name, value in values.items() if name not in secret_names or (submitted.get(name) or "").strip()
    }
    cabinet.settings.save(module, changed, secret=secret_names)
    return SettingsOutcome(errors=(), values=shown)
