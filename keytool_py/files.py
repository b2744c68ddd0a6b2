"""The only code that writes to disk.

Every write: a temporary file in the target folder, fsync, then rename into place, so a reader
never sees half a file. Keys, keystores and password files get mode 0600, certificates 0644.
An existing file is replaced only with force=True. A command's files are written together:
if one cannot be written, none of the new ones stay behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadInputError, KtpyError, OutputExistsError

SECRET_MODE = 0o600
PUBLIC_MODE = 0o644
PRIVATE_DIR_MODE = 0o700


@dataclass(frozen=True)
class Output:
    path: Path
    data: bytes = field(repr=False)
    secret: bool = False


def read(path: str | Path, *, what: str = "file") -> bytes:
    """A file's bytes, or one clear sentence why not."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadInputError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise BadInputError(f"{what} {path} is a directory, not a file") from None
    except PermissionError:
        raise BadInputError(f"{what} {path} cannot be read (permission denied)") from None
    except OSError as exc:
        raise BadInputError(f"{what} {path} cannot be read: {exc.strerror}") from None


def check_writable(outputs: Sequence[Output], *, force: bool) -> None:
    """Refuse before any work is done when an output exists (without force) or is a folder."""
    seen = set()
    for out in outputs:
        resolved = out.path.resolve()
        if resolved in seen:
            raise BadInputError(f"{out.path} is named twice as an output")
        seen.add(resolved)
        if out.path.is_dir():
            raise BadInputError(f"{out.path} is a directory; name a file to write")
        if out.path.exists() and not force:
            raise _exists(out.path)


def write_all(outputs: Sequence[Output], *, force: bool = False) -> None:
    """Write every output, or none of the new ones."""
    check_writable(outputs, force=force)
    created_dirs: list[Path] = []
    temps: list[tuple[str, Output]] = []
    placed: list[Path] = []
    try:
        # a folder that will hold a key is made private, whichever output comes first
        private_dirs = {out.path.parent for out in outputs if out.secret}
        for out in outputs:
            created_dirs += _make_parents(out.path.parent, private=out.path.parent in private_dirs)
            temps.append((_write_temp(out), out))
        for temp, out in temps:
            if force:
                os.replace(temp, out.path)
            else:
                # link() fails if the name appeared meanwhile: never replace without force
                try:
                    os.link(temp, out.path)
                except FileExistsError:
                    raise _exists(out.path) from None
                os.unlink(temp)
            placed.append(out.path)
        for directory in {out.path.parent for out in outputs}:
            _fsync_dir(directory)
    except BaseException as exc:
        for temp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        if not force:
            for path in placed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        for directory in reversed(created_dirs):
            with contextlib.suppress(OSError):
                directory.rmdir()
        if isinstance(exc, KtpyError):
            raise
        if isinstance(exc, OSError):
            raise BadInputError(f"cannot write {exc.filename or 'the output'}: {exc.strerror}") from None
        raise


def _exists(path: Path) -> OutputExistsError:
    return OutputExistsError(f"{path} already exists; pass --force to replace it")


def _make_parents(directory: Path, *, private: bool) -> list[Path]:
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR_MODE if private else 0o755)
    return list(reversed(missing))


def _write_temp(out: Output) -> str:
    fd, temp = tempfile.mkstemp(dir=out.path.parent, prefix=f".{out.path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, SECRET_MODE if out.secret else PUBLIC_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(out.data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return temp


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- editing a file in place ---------------------------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    """A file as it was read for an edit: its bytes and what identifies that version (device,
    inode, size, modification time), so that replacing it can refuse when it changed meanwhile."""

    path: Path
    data: bytes = field(repr=False)
    identity: tuple[int, int, int, int]


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def read_for_edit(path: str | Path, *, what: str = "file") -> Snapshot:
    """A file's bytes with its identity, for replace_in_place."""
    path = Path(path)
    before = _stat(path, what)
    data = read(path, what=what)
    if _identity(_stat(path, what)) != _identity(before) or len(data) != before.st_size:
        raise BadInputError(f"{what} {path} changed while it was read; try again")
    return Snapshot(path, data, _identity(before))


def _stat(path: Path, what: str) -> os.stat_result:
    try:
        return path.stat()
    except FileNotFoundError:
        raise BadInputError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise BadInputError(f"{what} {path} cannot be read: {exc.strerror}") from None


def replace_in_place(snapshot: Snapshot, data: bytes, *, backup: bool = False) -> Path | None:
    """Replace the file read as `snapshot` with `data` (mode 0600: keystores are secret),
    atomically: a temporary file beside it, fsync, then rename over it. Refused, with the file
    untouched, when it changed since it was read (other size, time, inode or content). With
    backup, the old bytes are kept as FILE.bak (0600, replacing an older .bak); returns its path."""
    path = snapshot.path
    outputs = [Output(path, data, secret=True)]
    bak = path.with_name(path.name + ".bak") if backup else None
    if bak is not None:
        outputs.append(Output(bak, snapshot.data, secret=True))
    temps: list[str] = []
    try:
        for out in outputs:
            temps.append(_write_temp(out))
        current = _identity(_stat(path, "the file"))
        if current != snapshot.identity or path.read_bytes() != snapshot.data:
            raise BadInputError(f"{path} changed since ktpy read it; nothing was written (run the command again)")
        if bak is not None:
            os.replace(temps[1], bak)
        os.replace(temps[0], path)
        _fsync_dir(path.parent)
    except BaseException as exc:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        if isinstance(exc, KtpyError):
            raise
        if isinstance(exc, OSError):
            raise BadInputError(f"cannot write {path}: {exc.strerror}; the file is unchanged") from None
        raise
    return bak
