"""A CA folder's ledger: every certificate the CA issued and every revocation, as JSON lines.

    CA_DIR/issued.jsonl    one JSON object per line, oldest first, each stamped "v": 1

    {"v": 1, "event": "issued", "serial": "5F3A...", "subject": "CN=...", "not_before": "...Z",
     "not_after": "...Z", "sha256": "AB:CD:...", "profile": "client", "by": "issue-client",
     "at": "...Z", "renews": null}
    {"v": 1, "event": "revoked", "serial": "5F3A...", "reason": "key-compromise", "at": "...Z"}
    {"v": 1, "event": "crl", "number": 1, "at": "...Z"}

Append-only, so a record is never rewritten: files.append_record adds each line under a lock
(issue-client --batch and several ktpy processes may record at once) and fsyncs it; a torn last
line left by a crash is ignored here and cut off by the next writer. The format is
docs/ledger.md. The values (Ledger, parse, the *_record lines) take and return bytes and
objects; LedgerFile is the one place that names the file in a CA folder, reads it and records
in it (through files.py), so the CLI never spells issued.jsonl.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from . import certs
from .choices import Choice
from .errors import BadInputError, KtpyError

LEDGER_FILE = "issued.jsonl"
FORMAT = 1


class Reason(Choice, label="revocation reason", default="unspecified"):
    """RFC 5280 5.3.1 revocation reasons, as users type them."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key-compromise"
    CA_COMPROMISE = "ca-compromise"
    AFFILIATION_CHANGED = "affiliation-changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation-of-operation"
    CERTIFICATE_HOLD = "certificate-hold"
    PRIVILEGE_WITHDRAWN = "privilege-withdrawn"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        # RFC 5280's own spelling (keyCompromise), as openssl ca -crl_reason takes it
        return {m.value.replace("-", ""): m.value for m in cls}

    @property
    def flag(self) -> x509.ReasonFlags:
        return x509.ReasonFlags[self.name.lower()]


@dataclass(frozen=True)
class IssuedCert:
    serial: int
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime
    sha256: str
    profile: str
    by: str
    at: dt.datetime
    renews: int | None = None


@dataclass(frozen=True)
class Revocation:
    serial: int
    reason: Reason
    at: dt.datetime


@dataclass(frozen=True)
class Ledger:
    issued: tuple[IssuedCert, ...] = ()
    revocations: tuple[Revocation, ...] = ()
    crl_number: int = 0  # the last CRL number given out
    torn: bool = False  # the last line was cut short by a crash (and is ignored)

    def find(self, serial: int) -> IssuedCert | None:
        """The first record issuing `serial` (an index by serial, built on first use: a
        110,000-line ledger is looked up once per certificate by inspect)."""
        return self._index()[0].get(serial)

    def revocation(self, serial: int) -> Revocation | None:
        """The first revocation of `serial` (the one a CRL states)."""
        return self._index()[1].get(serial)

    def _index(self) -> tuple[dict[int, IssuedCert], dict[int, Revocation]]:
        cached: tuple[dict[int, IssuedCert], dict[int, Revocation]] | None = self.__dict__.get("_by_serial")
        if cached is None:
            issued: dict[int, IssuedCert] = {}
            for cert in self.issued:
                issued.setdefault(cert.serial, cert)
            revoked: dict[int, Revocation] = {}
            for revocation in self.revocations:
                revoked.setdefault(revocation.serial, revocation)
            cached = (issued, revoked)
            object.__setattr__(self, "_by_serial", cached)  # frozen: the index is a cache, not state
        return cached

    def state(self, cert: IssuedCert, now: dt.datetime) -> str:
        """revoked, expired, not-yet-valid or valid."""
        if self.revocation(cert.serial) is not None:
            return "revoked"
        if cert.not_after < now:
            return "expired"
        if cert.not_before > now:
            return "not-yet-valid"
        return "valid"


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> dt.datetime:
    """'2026-11-30T00:00:00Z' exactly (as _time writes it). fromisoformat, not strptime: a
    100,000-line ledger has 300,000 of these, and strptime took most of inspect's time."""
    if len(text) != 20 or text[10] != "T" or text[19] != "Z" or not text[:4].isdigit():
        raise ValueError(f"{text!r} is not a ledger time")
    return dt.datetime.fromisoformat(text[:19]).replace(tzinfo=dt.timezone.utc)


def serial_hex(serial: int) -> str:
    """A serial as ktpy prints it (and as keytool does): upper-case hex, no separators."""
    return format(serial, "X")


def parse_serial(text: str) -> int:
    cleaned = text.strip().replace(":", "").lower().removeprefix("0x")
    try:
        value = int(cleaned, 16)
    except ValueError:
        raise BadInputError(f"{text!r} is not a serial number in hex (e.g. 5F3A09C2...)") from None
    if value < 0:
        raise BadInputError(f"{text!r} is not a serial number in hex")
    return value


def profile_of(cert: x509.Certificate) -> str:
    """client, server or other: which extended key usage the certificate carries."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "other"
    if ExtendedKeyUsageOID.CLIENT_AUTH in eku:
        return "client"
    if ExtendedKeyUsageOID.SERVER_AUTH in eku:
        return "server"
    return "other"


def _line(record: dict[str, object]) -> bytes:
    return json.dumps({"v": FORMAT, **record}, separators=(", ", ": ")).encode("utf-8")


def issued_record(cert: x509.Certificate, *, by: str, now: dt.datetime,
                  renews: int | None = None) -> bytes:
    """The line recording that the CA issued `cert` (by: the command that did)."""
    return _line({"event": "issued", "serial": serial_hex(cert.serial_number),
                  "subject": cert.subject.rfc4514_string(), "not_before": _time(cert.not_valid_before_utc),
                  "not_after": _time(cert.not_valid_after_utc), "sha256": certs.fingerprint(cert),
                  "profile": profile_of(cert), "by": by, "at": _time(now),
                  "renews": serial_hex(renews) if renews is not None else None})


def revoked_record(serial: int, reason: Reason, now: dt.datetime) -> bytes:
    return _line({"event": "revoked", "serial": serial_hex(serial), "reason": reason.value, "at": _time(now)})


def crl_record(number: int, now: dt.datetime) -> bytes:
    return _line({"event": "crl", "number": number, "at": _time(now)})


def parse(data: bytes, *, what: str = "the ledger") -> Ledger:
    """The ledger's records. A last line without its newline is a record a crash cut short: it
    is ignored (and reported as torn). Any other damage, or a newer format, is refused."""
    lines = data.split(b"\n")
    torn = bool(lines[-1].strip())
    issued, revocations, crl_number = [], [], 0
    for number, raw in enumerate(lines[:-1], start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            version = record["v"]
        except (ValueError, KeyError, TypeError):
            raise BadInputError(f"{what} line {number} is not a ledger record") from None
        if version != FORMAT:
            raise BadInputError(f"{what} line {number} has format {version}; this ktpy reads format {FORMAT}")
        try:
            event = record["event"]
            if event == "issued":
                issued.append(IssuedCert(
                    serial=parse_serial(record["serial"]), subject=record["subject"],
                    not_before=_parse_time(record["not_before"]), not_after=_parse_time(record["not_after"]),
                    sha256=record["sha256"], profile=record["profile"], by=record["by"],
                    at=_parse_time(record["at"]),
                    renews=parse_serial(record["renews"]) if record.get("renews") else None))
            elif event == "revoked":
                revocations.append(Revocation(serial=parse_serial(record["serial"]),
                                              reason=Reason.parse(record["reason"]), at=_parse_time(record["at"])))
            elif event == "crl":
                crl_number = max(crl_number, int(record["number"]))
        except (KeyError, ValueError, TypeError):
            raise BadInputError(f"{what} line {number} is a damaged {record.get('event')!r} record") from None
    return Ledger(issued=tuple(issued), revocations=tuple(revocations), crl_number=crl_number, torn=torn)


@dataclass(frozen=True)
class LedgerFile:
    """The ledger of the CA in `folder` (CA_DIR/issued.jsonl): read it, record in it."""

    folder: Path

    @classmethod
    def of(cls, ca_dir: str | Path) -> LedgerFile:
        return cls(Path(ca_dir))

    @property
    def path(self) -> Path:
        return self.folder / LEDGER_FILE

    def lock(self, wait: float | None = None) -> contextlib.AbstractContextManager[None]:
        """The ledger's lock (files.locked; waiting up to `wait` seconds), for a command that
        decides from what it read (a revocation, the next CRL number) and records it before
        anyone else reads. No lock (and no lock file) for a CA folder that does not exist."""
        from . import files

        return files.locked(self.path, wait=wait) if self.folder.is_dir() else contextlib.nullcontext()

    def read(self) -> Ledger:
        """What the ledger holds (empty when the CA has recorded nothing yet)."""
        from . import files

        data = files.read(self.path, what="ledger") if self.path.exists() else b""
        return parse(data, what=str(self.path))

    def record(self, line: bytes) -> None:
        """Append one record (a revocation, a CRL number...) under the file's lock."""
        from . import files

        files.append_record(self.path, line)

    def record_issued(self, certificates: Iterable[x509.Certificate], *, by: str, now: dt.datetime,
                      renews: int | None = None) -> None:
        """Record each certificate the CA issued, before the certificate's own files are written:
        a crash between the two leaves a ledger entry for files that never appeared (harmless,
        revocable), never a certificate it forgot."""
        for cert in certificates:
            try:
                self.record(issued_record(cert, by=by, now=now, renews=renews))
            except KtpyError as exc:
                raise KtpyError(f"{exc}; the CA records every certificate it issues in {self.path}, so none "
                                "was issued (make the CA folder writable)") from None

    def first(self, cert: x509.Certificate, *, by: str, now: dt.datetime) -> tuple[Path, bytes]:
        """(path, content) of a new CA's ledger that starts with `cert` (written with the CA's files)."""
        return self.path, issued_record(cert, by=by, now=now) + b"\n"
