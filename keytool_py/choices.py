"""Enums parsed from what users type: case-insensitive, with aliases, and an error that lists
the accepted values."""

from __future__ import annotations

import enum
from typing import TypeVar

from .errors import BadInputError

_C = TypeVar("_C", bound="Choice")


# Each subclass's settings, by class: Enum keeps members, not plain attributes, in its namespace.
_SETTINGS: dict[type, tuple[str, dict[str, str], str | None]] = {}


class Choice(enum.Enum):
    """Base for ktpy's enums. A subclass names what it is (`label`, for the error), other
    spellings (`aliases`: text -> value) and the value None parses to (`default`) as class
    keywords: `class Compat(Choice, label="compatibility", default="current")`. (A subclass whose
    aliases derive from its members overrides _aliases.)"""

    def __init_subclass__(cls, *, label: str = "value", aliases: dict[str, str] | None = None,
                          default: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        _SETTINGS[cls] = (label, dict(aliases or {}), default)

    @classmethod
    def _label(cls) -> str:
        return _SETTINGS.get(cls, ("value", {}, None))[0]

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return _SETTINGS.get(cls, ("value", {}, None))[1]

    @classmethod
    def _default(cls: type[_C]) -> _C | None:
        default = _SETTINGS.get(cls, ("value", {}, None))[2]
        return None if default is None else cls(default)

    @classmethod
    def parse(cls: type[_C], text: object) -> _C:
        if isinstance(text, cls):
            return text
        default = cls._default() if text is None else None
        if default is not None:
            return default
        key = str(text).lower()
        try:
            return cls(cls._aliases().get(key, key))
        except ValueError:
            choices = ", ".join(member.value for member in cls)
            raise BadInputError(f"unknown {cls._label()} {text!r}; choose one of {choices}") from None
