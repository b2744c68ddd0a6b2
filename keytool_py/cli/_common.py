"""The names cli/ shared before the split into app.py (the group, exit codes, error mapping),
options.py (shared options and input types) and inputs.py (reading inputs), still importable
from here for branches written against it (`from ._common import note`). New code imports those
three modules.
"""

from __future__ import annotations

from typing import Any

from . import app, inputs, options


def __getattr__(name: str) -> Any:
    for module in (app, options, inputs):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
