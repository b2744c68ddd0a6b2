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
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from . import names
from .errors import BadInputError, KtpyError

HEADER = ("subject", "name", "sans", "alias")
# The files of one client, after its name: (suffix, secret). Keystores add their own suffix.
PEM_FILES = ((".pem", False), (".key", True), ("-chain.pem", False))
PASSWORD_FILE = "-storepass.txt"
_SAN_SEPARATORS = re.compile(r"[;\s]+")
# A name becomes file names: letters, digits, '.', '_' and '-', and no leading dot.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


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


def parse_types(text: str) -> tuple:
    """'jks,pkcs12' -> (StoreType.JKS, StoreType.PKCS12): in the order given, duplicates dropped."""
    from .keystore import StoreType

    parsed = tuple(dict.fromkeys(StoreType.parse(t.strip()) for t in text.split(",") if t.strip()))
    if not parsed:
        raise BadInputError("give at least one keystore type: jks, pkcs12 or jceks")
    return parsed


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
        name = name or names.slug(names.common_name(parsed))
        if not _NAME.fullmatch(name):
            raise BadInputError(
                f"the name {name!r} is not usable in file names: use letters, digits, '.', '_' and '-'"
            )
        if name in seen:
            raise BadInputError(f"the name {name!r} is already used on line {seen[name]}")
        seen[name] = line
        sans = tuple(s for s in _SAN_SEPARATORS.split(values.get("sans", "")) if s)
        for san in sans:
            names.parse_san(san)
        from .keystore import normalize_alias

        alias = normalize_alias(values.get("alias") or name)
    except KtpyError as exc:
        return Row(line, subject, name, error=str(exc))
    return Row(line, subject, name, sans, alias, alias_lowered=alias != (values.get("alias") or name).strip())


@dataclass(frozen=True)
class Job:
    """What a worker needs for one client (plain values: it crosses into another process)."""

    line: int
    subject: str
    sans: tuple[str, ...]
    alias: str
    storepass: str = field(repr=False)


@dataclass(frozen=True)
class Issued:
    """One client's files by suffix ('.pem', '.key', '-chain.pem', '.jks'...), or its error."""

    line: int
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    not_after: dt.datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Settings:
    ca_key_der: bytes = field(repr=False)
    chain_der: tuple[bytes, ...]
    store_types: tuple
    key_type: str
    days: int
    compat: str | None
    now: dt.datetime


_WORKER: tuple | None = None  # (CA, _Settings) in each worker process


def _init_worker(settings: _Settings) -> None:
    global _WORKER
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from .ca import CA

    key = serialization.load_der_private_key(settings.ca_key_der, None)
    chain = tuple(x509.load_der_x509_certificate(der) for der in settings.chain_der)
    _WORKER = (CA(key=key, cert=chain[0], chain=chain), settings)


def _issue(job: Job) -> Issued:
    """One client, whole: key, certificate, PEMs and keystores. Errors come back as values."""
    from . import certs, keystore
    from .keys import private_key_to_pem

    ca, settings = _WORKER
    try:
        leaf = ca.issue_client(job.subject, key_type=settings.key_type, days=settings.days,
                               sans=job.sans, now=settings.now)
        files = {".pem": certs.to_pem([leaf.cert]), ".key": private_key_to_pem(leaf.key),
                 "-chain.pem": certs.to_pem(leaf.chain)}
        for store_type in settings.store_types:
            files[store_type.suffix] = keystore.build(store_type, leaf.key, leaf.chain, alias=job.alias,
                                                      storepass=job.storepass, compat=settings.compat,
                                                      now=settings.now)
    except KtpyError as exc:
        return Issued(job.line, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - one client's bug must not stop the others
        return Issued(job.line, error=f"unexpected failure ({type(exc).__name__})")
    return Issued(job.line, files, not_after=leaf.cert.not_valid_after_utc)


def issue_all(ca, jobs: Sequence[Job], *, store_types: Sequence, key_type: str = "rsa2048",
              days: int = 365, compat: str | None = None, now: dt.datetime | None = None,
              workers: int | None = None) -> Iterator[Issued]:
    """Issue every job from `ca`, yielding each client as it finishes (not in order), on
    `workers` processes (default: one per core). Closing the iterator early cancels the
    clients not yet started."""
    from . import certs, issue
    from .keys import private_key_to_der

    if not jobs:
        return
    settings = _Settings(ca_key_der=private_key_to_der(ca.key), chain_der=tuple(certs.to_der(c) for c in ca.chain),
                         store_types=tuple(store_types), key_type=key_type, days=days, compat=compat,
                         now=now or issue.utcnow())
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers == 1:
        _init_worker(settings)
        for job in jobs:
            yield _issue(job)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(settings,))
    try:
        for future in as_completed([pool.submit(_issue, job) for job in jobs]):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
