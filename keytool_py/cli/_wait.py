"""--wait SECONDS, and holding a file's lock for the rest of a command (files.locked)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
_KEY = "ktpy.wait"
# A day: a pipeline that waits longer for a lock has a stuck job, not a busy one.
MAX_WAIT = 86400


def _remember(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    ctx.meta[_KEY] = value


def wait_option(f: F) -> F:
    """--wait SECONDS: wait that long for another ktpy's lock on the file (default: give up at once)."""
    return click.option("--wait", type=click.FloatRange(0, MAX_WAIT), default=None, metavar="SECONDS",
                        expose_value=False, callback=_remember, is_eager=True,
                        help="When another ktpy is changing the same file, wait up to SECONDS for it "
                             "(default: stop at once with an error).")(f)


def hold_lock(path: str | Path) -> None:
    """Take the lock of `path` (files.locked) until the running command ends."""
    from .. import files

    ctx = click.get_current_context()
    ctx.with_resource(files.locked(path, wait=ctx.meta.get(_KEY)))


def wait_seconds() -> float | None:
    """--wait of the running command (None: give up at once)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(_KEY) if ctx else None
