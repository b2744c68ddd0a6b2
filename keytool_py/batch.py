"""Many client certificates at once: one CSV row per client, issued on every core.

    rows = parse_csv(text)                       # every row, bad ones carrying their error
    for done in issue_all(ca, jobs, ...): ...    # one Issued per job, as each finishes

The CSV has the header row `subject,name,sans,alias`; only subject is needed in each row. name
(the base of the file names) defaults to the CN in slug form, alias to the name, and sans holds
any number of TYPE:VALUE names separated by ';' or spaces. A subject with commas is quoted, as
CSV quotes any field with commas: "CN=client-1,O=Acme".

RSA key generation and the JCEKS key protection are the slow parts (tens to hundreds of
milliseconds each, the JCEKS one holding the GIL), so each client is made whole in a worker
process: key, certificate, PEMs and keystores. The CA key reaches the workers once, as bytes, in
memory. Like the rest of the library this module takes and returns objects and bytes, never
paths: the CLI names the files and writes each client's files together.

    plan(rows, suffixes, exists=..., check=...)  # to issue, done (skipped), failed, before any key
    jobs(plan.todo, storepass)                   # what the workers make (a random password each
                                                 # with storepass None)
    tally = Tally(plan); tally.add(row, ...)     # the books: issued, failed, the earliest expiry

A plan refuses rows whose files collide ('x' and 'x-chain' both make x-chain.pem) and skips rows
whose files all exist, with --force too (their keys may be in use). Workers end with the batch
process, even when it is killed (they hold the CA key).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from . import names
from .errors import BadInputError, KtpyError
from .names import display

if TYPE_CHECKING:  # imported where used: workers start light
    from .ca import CA
    from .keys import PrivateKey
    from .keystore import StoreType

HEADER = ("subject", "name", "sans", "alias")
# The files of one client, after its name: (suffix, secret). Keystores add their own suffix.
PEM_FILES = ((".pem", False), (".key", True), ("-chain.pem", False))
PASSWORD_FILE = "-storepass.txt"
_SAN_SEPARATORS = re.compile(r"[;\s]+")
# A name becomes file names: letters, digits, '.', '_' and '-', and no leading dot.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# File names hold at most 255 bytes (NAME_MAX on Linux, macOS and Windows); the temporary and
# kept-aside files of files.py add up to 20 bytes to a name (a dot, a tag, a random part, ".tmp").
LONGEST_SUFFIX = PASSWORD_FILE
MAX_NAME = 255 - len(LONGEST_SUFFIX) - 20


@dataclass(frozen=True)
class Row:
    """One client as the CSV gives it. `error` says why it cannot be issued (None when it can)."""

    line: int
    subject: str
    name: str
    sans: tuple[str, ...] = ()
    alias: str = ""
    error: str | None = None
    alias_lowered: bool = False  # the alias given had capitals (Java lowercases it when reading)


def parse_csv(text: str) -> list[Row]:
    """Every client row of the file, in order. A row that cannot be issued (a bad subject or SAN,
    a name already used) carries its error; a file without the header row is refused whole."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))  # a BOM is how Excel starts a CSV
    header: list[str] | None = None
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields) or fields[0].lstrip().startswith("#"):
            continue  # blank lines and comments
        if header is None:
            header = [f.strip().lower() for f in fields]
            if "subject" not in header or any(h not in HEADER for h in header) or len(set(header)) != len(header):
                raise BadInputError(
                    f"line {line} must be the header row {','.join(HEADER)} (subject is required, the rest "
                    f"optional), not {','.join(fields)!r}"
                )
            continue
        rows.append(_row(line, header, fields, seen))
    if header is None:
        raise BadInputError(f"the file holds no header row ({','.join(HEADER)}) and no clients")
    return rows


def _row(line: int, header: list[str], fields: list[str], seen: dict[str, int]) -> Row:
    if len(fields) > len(header):
        return Row(line, fields[0], "", error=(
            f"{len(fields)} fields where the header has {len(header)}; quote a subject that holds commas: "
            '"CN=client,O=Acme"'))
    values = dict(zip(header, (f.strip() for f in fields), strict=False))  # fewer fields: the rest empty
    subject = values.get("subject", "")
    name = values.get("name", "")
    try:
        if not subject:
            raise BadInputError("the subject is empty")
        parsed = names.parse_subject(subject)
        name = check_name(name or names.slug(names.common_name(parsed)))
        if name in seen:
            raise BadInputError(f"the name {name!r} is already used on line {seen[name]}")
        seen[name] = line
        sans = tuple(s for s in _SAN_SEPARATORS.split(values.get("sans", "")) if s)
        for san in sans:
            names.parse_san(san)
        from .keystore import normalize_alias

        alias = normalize_alias(values.get("alias") or name)
    except KtpyError as exc:
        usable = bool(_NAME.fullmatch(name)) and len(name.encode()) <= MAX_NAME  # else not shown in messages
        return Row(line, subject, name if usable else "", error=str(exc))
    return Row(line, subject, name, sans, alias, alias_lowered=alias != (values.get("alias") or name).strip())


def check_name(name: str) -> str:
    """`name` when it can be the base of file names in the output folder (no '/', no '..', no
    leading dot, at most NAME_MAX bytes with the longest suffix); BadInputError otherwise."""
    if not _NAME.fullmatch(name):
        raise BadInputError(
            f"the name {display(name)} is not usable in file names: use letters, digits, '.', '_' and '-'"
        )
    if len(name.encode()) > MAX_NAME:
        raise BadInputError(f"the name {display(name[:20] + '...')} is {len(name.encode())} bytes long; file names "
                            f"allow {MAX_NAME} with the longest suffix ({LONGEST_SUFFIX})")
    return name


def file_suffixes(store_types: Sequence[StoreType], generate_passwords: bool) -> list[tuple[str, bool]]:
    """(suffix, secret) of each file a client gets: the PEMs, a keystore per type, and its
    password file with --generate-passwords."""
    suffixes = [*PEM_FILES, *((t.suffix, True) for t in store_types)]
    if generate_passwords:
        suffixes.append((PASSWORD_FILE, True))
    return suffixes


def file_names(row: Row, suffixes: Sequence[tuple[str, bool]]) -> list[tuple[str, bool]]:
    return [(f"{row.name}{suffix}", secret) for suffix, secret in suffixes]


def refuse_collisions(rows: Sequence[Row], suffixes: Sequence[tuple[str, bool]]) -> list[Row]:
    """The rows, where a row that would write a file another row (earlier in the file) writes
    too carries that error: names 'x' and 'x-chain' both make x-chain.pem. Compared without
    case, as macOS and Windows compare file names."""
    owner: dict[str, Row] = {}
    out = []
    for row in rows:
        if row.error is None:
            clash = next(((f, owner[f.casefold()]) for f, _ in file_names(row, suffixes) if f.casefold() in owner),
                         None)
            if clash is not None:
                file_name, other = clash
                row = Row(row.line, row.subject, row.name, error=(
                    f"its file {file_name} is also a file of line {other.line} ({other.name}); give one of them "
                    "another name"))
            else:
                owner.update((f.casefold(), row) for f, _ in file_names(row, suffixes))
        out.append(row)
    return out


@dataclass(frozen=True)
class Plan:
    """What a batch run does: the rows to issue, the rows already done, and the failed rows
    with why (line -> (row, message))."""

    todo: tuple[Row, ...]
    skipped: int
    failed: dict[int, tuple[Row, str]]


def plan(rows: Sequence[Row], suffixes: Sequence[tuple[str, bool]], *,
         exists: Callable[[str], bool], check: Callable[[Row], None]) -> Plan:
    """Sort the rows: a row whose files all exist is done (skipped, with --force too: its key may
    be in use); a row with an error fails; `check` (which refuses a file in the way) may fail a
    row; the rest are to issue."""
    rows = refuse_collisions(rows, suffixes)
    failed = {row.line: (row, row.error) for row in rows if row.error}
    todo: list[Row] = []
    skipped = 0
    for row in rows:
        if row.error:
            continue
        if all(exists(f) for f, _ in file_names(row, suffixes)):
            skipped += 1
            continue
        try:
            check(row)
        except KtpyError as exc:
            failed[row.line] = (row, str(exc))
            continue
        todo.append(row)
    return Plan(tuple(todo), skipped, failed)


@dataclass(frozen=True)
class Job:
    """What a worker needs for one client (plain values: it crosses into another process).
    `own_password`: the storepass is this client's own, returned as its PASSWORD_FILE."""

    line: int
    subject: str
    sans: tuple[str, ...]
    alias: str
    storepass: str = field(repr=False)
    own_password: bool = False


def jobs(todo: Sequence[Row], storepass: str | None) -> list[Job]:
    """A job per row to issue: every keystore with `storepass`, or (None) each client's with a
    new random password of its own."""
    from .passwords import new_password

    return [Job(line=row.line, subject=row.subject, sans=row.sans, alias=row.alias,
                storepass=new_password() if storepass is None else storepass, own_password=storepass is None)
            for row in todo]


class Tally:
    """The books of a run: the rows issued, skipped and failed (line -> (row, why)), and the
    earliest expiry of those issued."""

    def __init__(self, plan: Plan, rows: int) -> None:
        self.rows, self.skipped, self.failed = rows, plan.skipped, dict(plan.failed)
        self.issued = 0
        self.expiry: dt.datetime | None = None

    def add(self, row: Row, *, error: str | None = None, not_after: dt.datetime | None = None) -> None:
        """One row's outcome: written (its certificate's not_after), or failed with `error`."""
        if error is not None:
            self.failed[row.line] = (row, error)
            return
        self.issued += 1
        if not_after is not None:
            self.expiry = min(self.expiry, not_after) if self.expiry else not_after

    def errors(self) -> list[str]:
        """One line per failed row, in file order."""
        return [f"line {line}{f' ({row.name})' if row.name else ''}: {why}"
                for line, (row, why) in sorted(self.failed.items())]

    def verdict(self) -> str | None:
        """Why the run failed as a whole (None when no row failed)."""
        if not self.failed:
            return None
        lines = ", ".join(str(line) for line in sorted(self.failed))
        return (f"{len(self.failed)} of {self.rows} row(s) failed (line {lines}); fix them and run the same "
                "command again: the rows already done are skipped")


@dataclass(frozen=True)
class Issued:
    """One client's files by suffix ('.pem', '.key', '-chain.pem', '.jks'...), or its error."""

    line: int
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    not_after: dt.datetime | None = None
    error: str | None = None

    def certificate(self) -> x509.Certificate:
        """The client certificate (of an Issued without error)."""
        from .certs import load_certificates

        return load_certificates(self.files[".pem"])[0]


@dataclass(frozen=True)
class _Settings:
    ca_key_der: bytes = field(repr=False)  # empty for a key in a PKCS#11 token, which is token_key
    chain_der: tuple[bytes, ...]
    store_types: tuple[StoreType, ...]
    key_type: str
    days: int
    compat: str | None
    now: dt.datetime
    token_key: PrivateKey | None = field(default=None, repr=False)


_WORKER: tuple[CA, _Settings] | None = None  # in each worker process


def _die_with_parent(parent: int) -> None:
    """End this worker when the batch process ends, however it ends (even SIGKILL): a worker
    holds the CA key in memory. Linux: the kernel sends SIGKILL when the parent goes
    (PR_SET_PDEATHSIG). Elsewhere, a thread watches for the parent to go."""
    import signal
    import threading

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent went before prctl took effect
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="ktpy-parent-watch").start()


def _init_worker(settings: _Settings, parent: int | None = None) -> None:
    global _WORKER
    if parent is not None:
        _die_with_parent(parent)
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from .ca import CA

    # A token key connects on first use in each process: every worker opens its own session.
    key = settings.token_key or serialization.load_der_private_key(settings.ca_key_der, None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)  # issue_all wrote a CA's key
    chain = tuple(x509.load_der_x509_certificate(der) for der in settings.chain_der)
    _WORKER = (CA(key=key, cert=chain[0], chain=chain), settings)


def _issue(job: Job) -> Issued:
    """One client, whole: key, certificate, PEMs and keystores. Errors come back as values."""
    from . import certs, keystore
    from .keys import private_key_to_pem

    assert _WORKER is not None  # set by _init_worker in this process
    ca, settings = _WORKER
    try:
        leaf = ca.issue_client(job.subject, key_type=settings.key_type, days=settings.days,
                               sans=job.sans, now=settings.now)
        assert leaf.key is not None  # issue_client makes the key (None only for a signed CSR)
        files = {".pem": certs.to_pem([leaf.cert]), ".key": private_key_to_pem(leaf.key),
                 "-chain.pem": certs.to_pem(leaf.chain)}
        for store_type in settings.store_types:
            files[store_type.suffix] = keystore.build(store_type, leaf.key, leaf.chain, alias=job.alias,
                                                      storepass=job.storepass, compat=settings.compat,
                                                      now=settings.now)
        if job.own_password:
            files[PASSWORD_FILE] = (job.storepass + "\n").encode()
    except KtpyError as exc:
        return Issued(job.line, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one client's bug must not stop the others
        return Issued(job.line, error=f"unexpected failure ({type(exc).__name__})")
    return Issued(job.line, files, not_after=leaf.cert.not_valid_after_utc)


def issue_all(ca: CA, jobs: Sequence[Job], *, store_types: Sequence[StoreType], key_type: str = "rsa2048",
              days: int = 365, compat: str | None = None, now: dt.datetime | None = None,
              workers: int | None = None) -> Iterator[Issued]:
    """Issue every job from `ca`, yielding each client as it finishes (not in order), on
    `workers` processes (default: one per core). Closing the iterator early cancels the
    clients not yet started."""
    from . import certs, issue
    from .keys import private_key_to_der

    if not jobs:
        return
    from .hsm import is_token_key

    in_token = is_token_key(ca.key)
    settings = _Settings(ca_key_der=b"" if in_token else private_key_to_der(ca.key),
                         chain_der=tuple(certs.to_der(c) for c in ca.chain),
                         store_types=tuple(store_types), key_type=key_type, days=days, compat=compat,
                         now=now or issue.utcnow(), token_key=ca.key if in_token else None)
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers == 1:
        _init_worker(settings)
        for job in jobs:
            yield _issue(job)
        return
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Workers must be children of this process (_die_with_parent checks it): fork on Linux (its
    # default before Python 3.14, which moves to forkserver), the platform's spawn elsewhere.
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(settings, os.getpid()),
                               mp_context=context)
    try:
        for future in as_completed([pool.submit(_issue, job) for job in jobs]):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _no_progress(length: int) -> contextlib.AbstractContextManager[Callable[[], None]]:
    return contextlib.nullcontext(lambda: None)


def run(rows: Sequence[Row], folder: Path, *, store_types: Sequence[StoreType], generate_passwords: bool,
        key_type: str, days: int, force: bool, ca_dir: str | Path, load_ca: Callable[[], CA],
        storepass: Callable[[], str | None], notify: Callable[[str], None],
        progress: Callable[[int], contextlib.AbstractContextManager[Callable[[], None]]] = _no_progress,
        ) -> tuple[Tally, CA | None]:
    """issue-client --batch into `folder`, whole: under the folder's journal (one batch at a time;
    what a killed run left is finished or cleaned first, and said through `notify`), the rows
    already done skipped, the rest issued on every core, each certificate recorded in the CA's
    ledger before its files are written, each row's files written at once (a row that fails is
    counted, never half-written). The CA and the store password are asked for only when there is
    work. Returns the tally and the CA (None when there was nothing to do)."""
    from . import files, issue
    from .ledger import LedgerFile

    suffixes = file_suffixes(store_types, generate_passwords)

    def outputs_of(row: Row, found: dict[str, bytes] | None = None) -> list[files.Output]:
        return [files.Output(folder / file_name, (found or {}).get(file_name[len(row.name):], b""), secret=secret)
                for file_name, secret in file_names(row, suffixes)]

    with files.Journal(folder) as journal:  # locked: one batch at a time per folder
        complete, removed = journal.recover()  # what a killed run left: finish or clean it first
        if complete or removed:
            notify(f"Recovered from an interrupted run: {len(complete)} row(s) found complete, "
                   f"{len(removed)} leftover file(s) of unfinished rows removed")
        todo = plan(rows, suffixes, exists=lambda name: (folder / name).exists(),
                    check=lambda row: files.check_writable(outputs_of(row), force=force))
        tally = Tally(todo, len(rows))
        issuer = load_ca() if todo.todo else None
        work = jobs(todo.todo, storepass() if todo.todo else None)
        by_line = {row.line: row for row in todo.todo}
        book = LedgerFile.of(ca_dir)
        issued = issue_all(issuer, work, store_types=store_types, key_type=key_type, days=days,
                           now=None) if issuer is not None else iter(())
        with progress(len(work)) as advance:
            for done in issued:
                row = by_line[done.line]
                if done.error is None:
                    book.record_issued([done.certificate()], by="issue-client --batch", now=issue.utcnow())
                    outputs = outputs_of(row, done.files)
                    try:
                        tag = journal.begin(row.name, outputs)
                        try:
                            files.write_all(outputs, force=force, tag=tag)
                        finally:  # written, or undone whole by write_all: nothing left to recover
                            journal.done(row.name)
                        tally.add(row, not_after=done.not_after)
                    except KtpyError as exc:
                        tally.add(row, error=str(exc))
                else:
                    tally.add(row, error=done.error)
                advance()
        journal.finish()
    return tally, issuer
