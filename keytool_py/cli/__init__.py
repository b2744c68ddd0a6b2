"""The `ktpy` command: thin click commands over the library, one module per group of commands.

Each command reads its inputs, calls the library, and hands its outputs to files.write_all.
Library errors become one line `Error: ...` on stderr; tracebacks only with --debug.
"""

from . import ca_cmds, check_cmds, mule_cmds, store_cmds  # noqa: F401 - importing registers the commands
from ._common import cli


def main() -> None:
    cli(prog_name="ktpy")


__all__ = ["cli", "main"]
