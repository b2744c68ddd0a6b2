"""Enums parsed from what users type: case-insensitive, with aliases, and an error that lists
the accepted values."""

from __future__ import annotations

import enum
from typing import TypeVar

from .errors import BadInputError

_C = TypeVar("_C", bound="Choice")


class Choice(enum.Enum):
    """Base for ktpy's enums. Subclasses may override LABEL, ALIASES and DEFAULT via methods."""

    @classmethod
    def _label(cls) -> str:
        return "value"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {}

    @classmethod
    def _default(cls: type[_C]) -> _C | None:
        return None

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
