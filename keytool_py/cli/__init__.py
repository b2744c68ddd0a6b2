"""The `ktpy` command: thin click commands over the library, one module per group of commands.

Each command reads its inputs, calls the library, and hands its outputs to files.write_all.
Library errors become one line `Error: ...` on stderr; tracebacks only with --debug.
"""

from .app import cli  # commands are loaded on demand: see app.COMMAND_MODULES


def main() -> None:
    cli(prog_name="ktpy")


__all__ = ["cli", "main"]
