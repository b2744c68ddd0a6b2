"""The only code that writes to disk.

Every write: a temporary file in the target folder, fsync, then rename into place, so a reader
never sees half a file. Keys, keystores and password files get mode 0600, certificates 0644.
An existing file is replaced only with force=True. A command's files are written together:
if one cannot be written, none of the new ones stay behind, and with force every old file is
put back as it was (each is kept aside, as a hard link, until every new one is in place).
Inputs are read up to a limit (MAX_INPUT), so a huge or endless file (/dev/zero) is refused
in bounded time and memory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BadInputError, KtpyError, OutputExistsError

SECRET_MODE = 0o600
PUBLIC_MODE = 0o644
PRIVATE_DIR_MODE = 0o700
# The most ktpy reads from one input file. A 100,000-certificate PEM bundle is about 150 MiB;
# nothing ktpy reads (certificates, keys, keystores, CSV) comes near this otherwise.
MAX_INPUT = 256 * 1024 * 1024


@dataclass(frozen=True)
class Output:
    path: Path
    data: bytes = field(repr=False)
    secret: bool = False


def read(path: str | Path, *, what: str = "file", limit: int = MAX_INPUT) -> bytes:
    """A file's bytes, or one clear sentence why not. More than `limit` bytes is refused."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise BadInputError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise BadInputError(f"{what} {path} is a directory, not a file") from None
    except PermissionError:
        raise BadInputError(f"{what} {path} cannot be read (permission denied)") from None
    except OSError as exc:
        raise BadInputError(f"{what} {path} cannot be read: {exc.strerror}") from None
    if len(data) > limit:
        raise BadInputError(f"{what} {path} is larger than {describe_size(limit)}, the most ktpy reads "
                            f"for a {what}")
    return data


def describe_size(size: int) -> str:
    """'256 MiB', '4096 bytes': a limit as people read it."""
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    return f"{size} bytes"


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


def write_all(outputs: Sequence[Output], *, force: bool = False, tag: str = "") -> None:
    """Write every output, or none of them: on any failure every new file is gone and every
    old one (replaced with force) is back as it was. `tag` goes into the names of the temporary
    and kept-aside files, so that a Journal can find them after a crash."""
    check_writable(outputs, force=force)
    created_dirs: list[Path] = []
    temps: list[tuple[str, Output]] = []
    placed: list[tuple[Path, str | None]] = []  # (output, where its old file is kept aside)
    current: Output | None = None
    try:
        # a folder that will hold a key is made private, whichever output comes first
        private_dirs = {out.path.parent for out in outputs if out.secret}
        for out in outputs:
            current = out
            created_dirs += _make_parents(out.path.parent, private=out.path.parent in private_dirs)
            temps.append((_write_temp(out, tag), out))
        for temp, out in temps:
            current = out
            kept = _keep_aside(out.path, tag) if force else None
            try:
                # link() fails if the name appeared meanwhile: never replace what was not kept aside
                _place(temp, out.path, replace=kept is not None)
            except BaseException:
                if kept is not None:
                    _discard(kept)
                raise
            placed.append((out.path, kept))
        current = None
        for temp, _ in temps:
            _discard(temp)
        for directory in {out.path.parent for out in outputs}:
            _fsync_dir(directory)
    except BaseException as exc:
        _undo(temps, placed, created_dirs)
        if isinstance(exc, KtpyError):
            raise
        if isinstance(exc, OSError):
            raise BadInputError(f"cannot write {current.path if current else exc.filename or 'the output'}: "
                                f"{exc.strerror or exc}") from None
        raise
    for _, kept in placed:
        if kept is not None:
            _discard(kept)


def _keep_aside(path: Path, tag: str = "") -> str | None:
    """A hard link to the file now at `path` (None when there is none), so that it can be put
    back. A link, not a rename: the name keeps its old file until the new one replaces it."""
    if not os.path.lexists(path):
        return None
    aside = str(path.parent / f".{path.name}.{tag or secrets.token_hex(6)}.old")
    try:
        os.link(path, aside, follow_symlinks=False)
    except OSError:  # a file system without hard links (FAT, some network shares): a copy
        import shutil

        shutil.copy2(path, aside, follow_symlinks=False)
    return aside


def _place(temp: str, path: Path, *, replace: bool) -> None:
    if replace:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)
    except FileExistsError:
        raise _exists(path) from None


def _undo(temps: Sequence[tuple[str, Output]], placed: Sequence[tuple[Path, str | None]],
          created_dirs: Sequence[Path]) -> None:
    """Put back what write_all changed, newest first: old files back, new files gone."""
    for path, kept in reversed(placed):
        with contextlib.suppress(OSError):
            if kept is not None:
                os.replace(kept, path)
            else:
                os.unlink(path)
    for temp, _ in temps:
        _discard(temp)
    for directory in reversed(created_dirs):
        with contextlib.suppress(OSError):
            directory.rmdir()


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


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


def _write_temp(out: Output, tag: str = "") -> str:
    prefix = f".{out.path.name}.{tag}." if tag else f".{out.path.name}."
    fd, temp = tempfile.mkstemp(dir=out.path.parent, prefix=prefix, suffix=".tmp")
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


# --- append-only records (the CA's ledger) ---

def append_record(path: str | Path, line: bytes) -> None:
    """Append one record (a line) to a log file under an exclusive lock, so that processes
    recording at the same time never interleave, and fsync it before returning.

    Crash safety: a record is one write() of a whole line. A crash may leave a last line without
    its newline (a torn record); readers ignore it, and the next writer cuts it off, under the
    lock, before appending. Every complete record stays.
    """
    import fcntl

    path = Path(path)
    if b"\n" in line:
        raise ValueError("a record is one line")
    try:
        _make_parents(path.parent, private=False)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PUBLIC_MODE)
    except OSError as exc:
        raise BadInputError(f"cannot write {exc.filename or path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size:
            keep = _complete_length(fd, size)
            if keep != size:
                os.ftruncate(fd, keep)
        os.write(fd, line + b"\n")
        os.fsync(fd)
    except OSError as exc:
        raise BadInputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        os.close(fd)  # closing releases the lock
    _fsync_dir(path.parent)


def _complete_length(fd: int, size: int) -> int:
    """The length of the file up to its last newline (what the complete records take)."""
    position = size
    while position > 0:
        start = max(0, position - 4096)
        chunk = os.pread(fd, position - start, start)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0


class Journal:
    """What a batch is about to write, kept in its output folder, so that a rerun after a crash
    (a kill, a power cut) can tell its own leftovers from anyone else's files.

    Before a group of files is written, `begin` appends one line: the group's name, a random tag
    and the SHA-256 of each new file, flushed to disk; `done` appends the group's name when all are
    in place. `recover` (at the start of the next run) finishes each group begun but not done:
    when every file is there with the recorded content, the group is complete; otherwise each file
    with the recorded content is removed (and any old one that --force kept aside is put back),
    and the temporary files carrying the tag are removed. A file that already held its new
    content when the group began (recorded as unchanged) is left in place. A file whose content differs is never
    touched: ktpy cannot prove it wrote it. The journal is deleted once nothing is pending.
    """

    NAME = ".ktpy-batch-journal"

    def __init__(self, folder: Path):
        self.path = Path(folder) / self.NAME
        self._lock_fd: int | None = None

    def __enter__(self) -> Journal:
        """Lock the folder for this run (flock on the folder itself, so no lock file is left):
        a second batch into the same folder would take the first one's files for leftovers.
        A folder that does not exist yet is locked when the first group begins."""
        if self.path.parent.is_dir():
            self._lock()
        return self

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
            fd = os.open(folder, os.O_RDONLY)
        except OSError as exc:
            raise BadInputError(f"cannot write into {folder}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise KtpyError(f"another batch is writing into {folder}; wait for it to finish") from None
        self._lock_fd = fd

    def __exit__(self, *exc_info: object) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    def _records(self) -> list[dict[str, Any]]:
        import json

        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # the last line, cut by the crash: nothing was written after it
        return records

    def pending(self) -> dict[str, dict[str, Any]]:
        """The groups begun and not done: name -> {"tag": ..., "files": {file name: sha256}}."""
        open_groups: dict[str, dict[str, Any]] = {}
        for record in self._records():
            if "begin" in record:
                open_groups[record["begin"]] = record
            elif "done" in record:
                open_groups.pop(record["done"], None)
        return open_groups

    def recover(self) -> tuple[list[str], list[Path]]:
        """(groups found complete, files removed): see the class docstring."""
        try:
            return self._recover()
        except OSError as exc:
            raise BadInputError(f"cannot clean up the interrupted run in {self.path.parent}: "
                                f"{exc.strerror or exc}") from None

    def _recover(self) -> tuple[list[str], list[Path]]:
        import glob

        complete, removed = [], []
        folder = self.path.parent
        for name, record in self.pending().items():
            tag, expected = record["tag"], record["files"]
            ours = {f for f, digest in expected.items() if _holds(folder / f, digest)}
            for leftover in glob.glob(glob.escape(str(folder)) + f"/.*.{tag}.*.tmp"):
                _discard(leftover)
                removed.append(Path(leftover))
            if len(ours) == len(expected):
                for file_name in expected:
                    _discard(str(folder / f".{file_name}.{tag}.old"))
                complete.append(name)
                self.done(name)
                continue
            unchanged = set(record.get("unchanged", ()))
            for file_name in expected:
                path, aside = folder / file_name, folder / f".{file_name}.{tag}.old"
                if file_name in unchanged:  # its old content was the new one: never remove it
                    if aside.exists():
                        os.replace(aside, path)
                elif file_name in ours:
                    if aside.exists():
                        os.replace(aside, path)  # the old file back
                    else:
                        os.unlink(path)
                    removed.append(path)
                elif aside.exists() and not path.exists():
                    os.replace(aside, path)
                elif aside.exists() and os.path.samefile(aside, path):
                    os.unlink(aside)  # kept aside, never replaced
            self.done(name)
        return complete, removed

    def begin(self, name: str, outputs: Sequence[Output]) -> str:
        """Record a group about to be written; returns the tag to pass to write_all."""
        import hashlib

        if self._lock_fd is None:
            self._lock()
        tag = f"ktpy{secrets.token_hex(4)}"
        digests = {out.path.name: hashlib.sha256(out.data).hexdigest() for out in outputs}
        # a file that already holds its new content (renew's mule-config.xml) is not ktpy's to remove
        unchanged = [out.path.name for out in outputs if _holds(out.path, digests[out.path.name])]
        self._append({"begin": name, "tag": tag, "files": digests, "unchanged": unchanged})
        return tag

    def done(self, name: str) -> None:
        self._append({"done": name})

    def finish(self) -> None:
        """Delete the journal when no group is pending (a run that ended normally)."""
        if not self.pending():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def _append(self, record: dict[str, Any]) -> None:
        import json

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, SECRET_MODE)
            try:
                os.write(fd, json.dumps(record, separators=(",", ":")).encode() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise BadInputError(f"cannot write {self.path}: {exc.strerror or exc}") from None


def _holds(path: Path, digest: str) -> bool:
    """True when the file at `path` has the SHA-256 `digest`: the content a Journal recorded."""
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == digest
    except OSError:
        return False


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


@dataclass(frozen=True)
class Replaced:
    """What replace_in_place did: the file it replaced (a link's target), the backup it kept,
    and what the user should hear (a mode narrowed, an owner that could not be kept)."""

    path: Path
    backup: Path | None = None
    notices: tuple[str, ...] = ()


def replace_in_place(snapshot: Snapshot, data: bytes, *, backup: bool = False, secret: bool = True) -> Replaced:
    """Replace the file read as `snapshot` with `data`, atomically, keeping what the deployment
    gave it, as keytool does:

    - a symbolic link stays a link: its target is replaced, by a temporary file in the target's
      own folder renamed over it (so the rename is atomic on the target's file system);
    - the new file gets the old one's owner, group and mode (root editing a `mule:mule 0640`
      store leaves it `mule:mule 0640`). When the file holds a secret (a keystore with keys), a
      mode that lets every user read or write it is narrowed to owner and group, with a notice;
      a truststore keeps its 0644;
    - refused, with the file untouched, when it changed since it was read (other size, time,
      inode or content);
    - with backup, the old bytes become FILE.bak (0600, beside the target) only once the new file
      is in place: a failed edit leaves an older FILE.bak as it was.
    """
    link = snapshot.path
    path = Path(os.path.realpath(link))
    out = Output(path, data, secret=True)
    notices: list[str] = []
    bak = path.with_name(path.name + ".bak") if backup else None
    temps: list[str] = []
    try:
        old = path.stat()
        mode = old.st_mode & 0o7777
        if secret and mode & 0o007:
            mode &= ~0o007
            notices.append(f"{link} holds keys and could be read or written by every user (mode "
                           f"{old.st_mode & 0o777:04o}); it is now {mode & 0o777:04o}")
        temps.append(_write_temp(out))
        notices += _keep_owner(temps[0], old, link)
        os.chmod(temps[0], mode)
        if bak is not None:
            temps.append(_write_temp(Output(bak, snapshot.data, secret=True)))
        current = _identity(_stat(link, "the file"))
        if current != snapshot.identity or path.read_bytes() != snapshot.data:
            raise BadInputError(f"{link} changed since ktpy read it; nothing was written (run the command again)")
        os.replace(temps[0], path)
        if bak is not None:  # only now: a failed edit never touches an older backup
            os.replace(temps[1], bak)
        _fsync_dir(path.parent)
    except BaseException as exc:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        if isinstance(exc, KtpyError):
            raise
        if isinstance(exc, OSError):
            raise BadInputError(f"cannot write {link}: {exc.strerror}; the file is unchanged") from None
        raise
    return Replaced(path, bak, tuple(notices))


def _keep_owner(temp: str, old: os.stat_result, shown: Path) -> list[str]:
    """Give the new file the old one's owner and group. Only root may give a file away; another
    user keeps at least the group when it is one of theirs, and is told what changed."""
    mine = os.stat(temp)
    if (mine.st_uid, mine.st_gid) == (old.st_uid, old.st_gid):
        return []
    try:
        os.chown(temp, old.st_uid, old.st_gid)
        return []
    except PermissionError:
        pass
    with contextlib.suppress(PermissionError):
        os.chown(temp, -1, old.st_gid)
    now = os.stat(temp)
    if (now.st_uid, now.st_gid) == (old.st_uid, old.st_gid):
        return []
    return [f"{shown} now belongs to {_owner(now)} (it belonged to {_owner(old)}, and only root can give a "
            "file to another user)"]


def _owner(st: os.stat_result) -> str:
    import grp
    import pwd

    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return f"{user}:{group}"


# --- one writer at a time: a lock beside the file ------------------------------------------------

# Held locks of this process, by lock-file path: (descriptor, depth). flock locks belong to an
# open file description, so a second open of the same lock file in this process would wait for
# itself; a nested `locked` of the same path only counts up instead.
_HELD: dict[str, list[int]] = {}
# How often a waiting process tries the lock again (seconds).
_POLL = 0.05


LOCK_FILE = ".ktpy.lock"


def lock_path(path: str | Path) -> Path:
    """The lock file of `path`: `.NAME.lock` beside the file it protects, or `.ktpy.lock` inside
    a folder (kit and renew lock their output folder). A symlink is followed, so every link to
    one store shares the store's lock."""
    target = Path(os.path.realpath(path))
    if target.is_dir():
        return target / LOCK_FILE
    return target.parent / f".{target.name}.lock"


@contextlib.contextmanager
def locked(path: str | Path, wait: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of `path` (flock on lock_path(path)) while the block runs: the
    block reads, decides and replaces, and no other ktpy does the same meanwhile.

    wait=None gives up at once with "locked by another ktpy"; wait=N tries for N seconds. The
    lock file exists only while it is held: the holder removes it before letting go, and a
    process that locked a file which is no longer the one at that name (removed meanwhile)
    lets go and tries again, so two holders never meet. On a file system without flock (some
    FUSE and SMB mounts answer ENOLCK or EOPNOTSUPP) the edit is refused unless KTPY_NO_LOCK=1,
    which edits without the lock: the check that the file did not change since it was read
    still runs just before the rename.
    """
    lock = lock_path(path)
    key = str(lock)
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    fd = _acquire(lock, Path(path), wait)
    _HELD[key] = [fd, 1]
    try:
        yield
    finally:
        del _HELD[key]
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.unlink(lock)
            os.close(fd)  # closing the descriptor releases the lock


def _acquire(lock: Path, path: Path, wait: float | None) -> int:
    """A descriptor of `lock`, flocked, still the file at that name (-1: KTPY_NO_LOCK, or a
    system without flock at all)."""
    import time

    try:
        import fcntl
    except ImportError:  # not POSIX: no lock (as Journal)
        return -1

    deadline = None if wait is None else time.monotonic() + max(0.0, wait)
    while True:
        fd = _open_lock(lock, path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if deadline is None or time.monotonic() >= deadline:
                waited = "" if wait is None else f" after waiting {wait:g} s"
                raise KtpyError(f"{path} is locked by another ktpy{waited}; try again when it is done, or "
                                "pass --wait SECONDS") from None
            time.sleep(_POLL)
            continue
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(lock)  # nobody can hold it on such a file system: leave nothing behind
            if os.environ.get("KTPY_NO_LOCK") == "1":
                return -1
            raise KtpyError(f"cannot lock {path}: the file system does not support flock ({exc.strerror}); "
                            "set KTPY_NO_LOCK=1 to edit without a lock when no other ktpy runs") from None
        held = os.fstat(fd)
        try:
            now = os.stat(lock, follow_symlinks=False)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)  # the holder before us removed it: lock the new one


def _open_lock(lock: Path, protected: Path) -> int:
    """The lock file's descriptor; a new one created by root belongs to the protected file's
    owner, so that user's own ktpy can lock it while root's waits."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PUBLIC_MODE)
        created = True
    except FileExistsError:
        created = False
        try:
            fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW)
        except FileNotFoundError:  # removed by its holder in between: create it
            return _open_lock(lock, protected)
        except PermissionError:
            fd = _open_or_fail(lock, os.O_RDONLY | os.O_NOFOLLOW)  # flock needs no write access
        except OSError as exc:
            raise _cannot_lock(lock, exc) from None
    except OSError as exc:
        raise _cannot_lock(lock, exc) from None
    if created and os.geteuid() == 0:
        with contextlib.suppress(OSError):
            owner = os.stat(protected) if protected.exists() else os.stat(lock.parent)
            os.fchown(fd, owner.st_uid, owner.st_gid)
    return fd


def _open_or_fail(lock: Path, flags: int) -> int:
    try:
        return os.open(lock, flags)
    except OSError as exc:
        raise _cannot_lock(lock, exc) from None


def _cannot_lock(lock: Path, exc: OSError) -> BadInputError:
    return BadInputError(f"cannot create the lock file {lock}: {exc.strerror or exc}")
