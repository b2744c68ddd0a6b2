"""Which certificates expire when, over files and folders of keystores and PEM/DER files.

    result = scan(["kits/", "ca.pem"], passwords=PasswordMap(...), now=now)
    result.certificates   # one Found per certificate, soonest first
    result.unreadable     # files that looked like certificate containers but could not be read
    text_lines(result, within), as_json(result, within), prometheus(result)  # the renderers

The file type comes from the content: JKS and JCEKS by their magic numbers, PKCS12 by its DER
header, PEM by a CERTIFICATE block, DER by parsing. Files of no such kind (keys, XML, READMEs)
are skipped without a word.

JKS and JCEKS certificates are stored in the clear (only keys are encrypted); the store password
only feeds the integrity hash, which this scan does not check, as `keytool -list` without
-storepass does not (it warns that the integrity is not verified). So they need no password.
PKCS12 encrypts its certificates (Java and OpenSSL do by default) and needs one.

Large trees are read on every core, in a pool of processes (PKCS12 decryption holds the GIL
for milliseconds per file); a few files are read in this process, where a pool would cost more
than it saves. The scan is the only part of ktpy that takes paths in the library: it walks
folders; it never writes.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import BadInputError, KtpyError

if TYPE_CHECKING:
    from cryptography import x509

JSON_FORMAT = 1
# Certificate files and keystores are kilobytes; a large Java cacerts is a few hundred. Bigger
# files (archives, jars, databases) are not read.
MAX_FILE_SIZE = 16 * 1024 * 1024
# Below this many files a pool of processes costs more (about 30 ms to start) than it saves.
PARALLEL_MIN_FILES = 24


@dataclass(frozen=True)
class Found:
    """One certificate: where it is, and its names, serial and validity."""

    file: str
    store_type: str  # jks, jceks, pkcs12, pem or der
    alias: str | None  # the keystore entry; None in a PEM or DER file
    position: int  # 0 for an entry's (or file's) first certificate, then each issuer
    subject: str
    issuer: str
    serial: str  # upper-case hex
    not_before: dt.datetime
    not_after: dt.datetime
    sha256: str  # as keytool prints it: upper-case hex pairs joined by colons


@dataclass(frozen=True)
class Unreadable:
    file: str
    reason: str


@dataclass(frozen=True)
class Result:
    now: dt.datetime
    certificates: tuple[Found, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    files: int = 0  # files that held certificates

    def state(self, found: Found, within: dt.timedelta) -> str:
        """expired, expiring (within the window), not-yet-valid or valid."""
        if found.not_after < self.now:
            return "expired"
        if found.not_after <= self.now + within:
            return "expiring"
        if found.not_before > self.now:
            return "not-yet-valid"
        return "valid"

    def days_left(self, found: Found) -> int:
        """Whole days until not-after, negative once expired (floor, as `-checkend` counts)."""
        return (found.not_after - self.now) // dt.timedelta(days=1)

    def problems(self, within: dt.timedelta) -> list[Found]:
        return [f for f in self.certificates if self.state(f, within) in ("expired", "expiring")]


# --- passwords ---

@dataclass(frozen=True)
class PasswordMap:
    """Which password opens which PKCS12: (glob, password) rules, first match wins, then the
    default. A glob without a '/' is matched against the file name; one with a '/' against the
    end of the path, on a folder boundary (`prod/*.p12` matches any .../prod/x.p12; `*` crosses
    folders)."""

    rules: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    default: str | None = field(default=None, repr=False)

    def for_file(self, path: str) -> str | None:
        name = path.rsplit("/", 1)[-1]
        for pattern, password in self.rules:
            if "/" not in pattern:
                if fnmatch.fnmatchcase(name, pattern):
                    return password
            elif fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, "*/" + pattern):
                return password
        return self.default


def parse_password_map(text: str, *, what: str = "the password map") -> list[tuple[str, str]]:
    """Lines `GLOB SRC` (SRC as --storepass takes it: env:VAR, file:PATH, pass:TEXT); blank
    lines and lines starting with # are skipped. Returns (glob, SRC) pairs, in order."""
    rules = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split(None, 1)
        if len(parts) != 2:
            raise BadInputError(f"{what} line {number} must be GLOB SRC (e.g. 'prod/*.p12 env:PROD_PASS')")
        rules.append((parts[0], parts[1].strip()))
    return rules


# --- reading one file ---

def _certificate(der: bytes, what: str = "a certificate in the keystore") -> x509.Certificate:
    """A DER certificate with every part parsed now (certs.load_certificates), so that damage
    is a BadInputError here, not a crash while it is described."""
    from .certs import load_certificates

    return load_certificates(der, what=what)[0]


def _pkcs12(data: bytes, password: str | None) -> list[tuple[str | None, int, x509.Certificate]]:
    """(alias, position, certificate) of every certificate in a PKCS12: each key's chain under
    the key's friendlyName (lowercased, as Java lists it), then each trusted or named
    certificate under its own name, then any other. ktpy's own reader (RFC 7292 over hashlib)
    parses in a tenth of the time cryptography's load_pkcs12 takes, and says why it cannot."""
    from . import certs
    from .errors import WrongPasswordError
    from .keystore import p12codec

    try:
        # a password-less Java PKCS12 (no MAC, certificates in the clear) opens with any password
        bags = p12codec.parse(data, password if password is not None else "")
    except WrongPasswordError:
        if password is not None:
            raise
        raise BadInputError("a PKCS12 keystore needs its store password: give --storepass, or a "
                            "--passwords line whose glob matches this file") from None
    try:
        cert_bags = [(bag, _certificate(bag.der)) for bag in bags if bag.kind == "cert" and bag.der is not None]
    except BadInputError:
        raise BadInputError("the PKCS12 keystore holds a certificate that cannot be read") from None
    key_names = {bag.local_key_id: bag.friendly_name for bag in bags if bag.kind == "key" and bag.local_key_id}
    everything = [cert for _, cert in cert_bags]
    out: list[tuple[str | None, int, x509.Certificate]] = []
    placed: set[x509.Certificate] = set()
    for number, (bag, cert) in enumerate(cert_bags, start=1):
        if bag.local_key_id in key_names:
            name = key_names[bag.local_key_id] or bag.friendly_name or str(number)
            chain, _ = certs.split_chain(cert, everything)
            out += [(name.lower(), n, c) for n, c in enumerate(chain)]
            placed.update(chain)
    for bag, cert in cert_bags:
        if bag.trusted or bag.friendly_name:
            out.append(((bag.friendly_name or "").lower() or None, 0, cert))
        elif cert not in placed:
            out.append((None, 0, cert))
    return out


def read_certificates(data: bytes, password: str | None = None,
                      ) -> tuple[str, list[tuple[str | None, int, x509.Certificate]]] | None:
    """(store type, [(alias, position, certificate)]) for a file's bytes, or None when the file
    holds no certificates by its content. Raises KtpyError when it should but cannot be read."""
    from . import certs, keystore, opener

    store_type = keystore.detect_type(data)
    if store_type is keystore.StoreType.PKCS12:
        return "pkcs12", _pkcs12(data, password)
    if store_type is not None:
        # JKS, JCEKS and BKS read as Java's load(stream, null): no password, no integrity check (as
        # `keytool -list` without -storepass); certificates are not encrypted there. Aliases
        # lowercased, as Java lists them (Bouncy Castle keeps them as stored). UBER is encrypted
        # as a whole: it needs its password.
        uber = store_type is keystore.StoreType.UBER
        store = opener.open_store(opener.Source("the file", data, store_type), lambda: password if uber else None,
                                  mode=opener.Mode.SEALED, store_type=store_type).store
        return store_type.value, [(entry.alias if store_type.bouncy_castle else entry.alias.lower(), n, cert)
                                  for entry in store.entries for n, cert in enumerate(entry.chain)]
    if b"CERTIFICATE-----" in data:
        return "pem", [(None, n, c) for n, c in enumerate(certs.load_certificates(data, what="the file"))]
    if data[:1] == b"\x30":
        try:
            return "der", [(None, 0, _certificate(data, "the file"))]
        except BadInputError:
            return None  # DER, but not a certificate: a key, a CRL...
    return None


def _describe(path: str, store_type: str, items: Iterable[tuple[str | None, int, x509.Certificate]],
              ) -> list[Found]:
    from cryptography.x509 import Certificate

    from .certs import fingerprint

    out: list[Found] = []
    seen: set[tuple[str | None, int, x509.Name]] = set()
    for alias, position, cert in items:
        assert isinstance(cert, Certificate)
        key = (alias, cert.serial_number, cert.issuer)
        if key in seen:
            continue
        seen.add(key)
        out.append(Found(file=path, store_type=store_type, alias=alias, position=position,
                         subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
                         serial=format(cert.serial_number, "X"), not_before=cert.not_valid_before_utc,
                         not_after=cert.not_valid_after_utc, sha256=fingerprint(cert)))
    return out


def scan_file(path: str, password: str | None = None) -> list[Found] | Unreadable | None:
    """One file: its certificates, why it cannot be read, or None when it holds none."""
    import stat
    import warnings

    try:
        info = os.stat(path)
        # only regular files: opening a FIFO or a device would block or read forever
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_SIZE or info.st_size == 0:
            return None
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return Unreadable(path, f"cannot be read: {exc.strerror}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # old certificates with negative serials and the like
            found = read_certificates(data, password)
            return None if found is None else _describe(path, found[0], found[1])
    except KtpyError as exc:
        return Unreadable(path, str(exc))
    except Exception as exc:  # noqa: BLE001 - one damaged file must not stop the scan
        return Unreadable(path, f"cannot be read ({type(exc).__name__})")


def _scan_chunk(jobs: list[tuple[str, str | None]]) -> list[list[Found] | Unreadable | None]:
    return [scan_file(*job) for job in jobs]


# --- the tree ---

def walk(paths: Iterable[str], unreadable: list[Unreadable] | None = None) -> list[str]:
    """Every file under the paths (folders recursively, in sorted order), as path strings. A
    folder that cannot be listed goes into `unreadable` (when given), never silently away."""
    out: list[str] = []

    def refused(exc: OSError) -> None:
        if unreadable is not None:
            unreadable.append(Unreadable(str(exc.filename), f"folder cannot be read: {exc.strerror}"))

    for given in paths:
        if os.path.isdir(given):
            for root, dirs, names in os.walk(given, onerror=refused):
                dirs.sort()
                out += [os.path.join(root, n) for n in sorted(names)]
        elif os.path.exists(given):
            out.append(given)
        else:
            raise BadInputError(f"{given} does not exist")
    return list(dict.fromkeys(out))


def scan(paths: Sequence[str], *, passwords: PasswordMap | None = None, now: dt.datetime,
         workers: int | None = None) -> Result:
    """Every certificate in the files and folders of `paths`."""
    passwords = passwords or PasswordMap()
    unreadable: list[Unreadable] = []
    jobs = [(path, passwords.for_file(path)) for path in walk(paths, unreadable)]
    workers = min(workers or os.cpu_count() or 1, max(1, len(jobs) // 8))
    if workers > 1 and len(jobs) >= PARALLEL_MIN_FILES:
        results = _in_pool(jobs, workers)
    else:
        results = [scan_file(*job) for job in jobs]
    found: list[Found] = []
    files = 0
    for outcome in results:
        if isinstance(outcome, Unreadable):
            unreadable.append(outcome)
        elif outcome:
            found += outcome
            files += 1
    found.sort(key=lambda f: (f.not_after, f.file, f.alias or "", f.position))
    return Result(now=now, certificates=tuple(found), unreadable=tuple(unreadable), files=files)


def _in_pool(jobs: list[tuple[str, str | None]], workers: int) -> list[list[Found] | Unreadable | None]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers start with this process's modules already imported (no thread runs
    # here, so it is safe); a few chunks per worker balance PKCS12s against cheap JKS files
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    size = max(1, len(jobs) // (workers * 4))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [r for chunk in pool.map(_scan_chunk, chunks) for r in chunk]


# --- the renderers ---

# A million days (about 2,700 years): any certificate's end is nearer, and now + the window
# stays a date (Python's and X.509's last year is 9999).
MAX_WINDOW_DAYS = 1_000_000


def parse_window(text: str) -> dt.timedelta:
    """'30d', '12h', '2w' or a plain number of days, at most MAX_WINDOW_DAYS."""
    match = re.fullmatch(r"\s*(\d{1,20})\s*([dhw]?)\s*", text.lower())
    if not match:
        raise BadInputError(f"{text!r} is not a time window; write it as 30d, 12h or 2w")
    unit = match.group(2) or "d"
    days = int(match.group(1)) * {"d": 1, "h": 1 / 24, "w": 7}[unit]
    if days > MAX_WINDOW_DAYS:
        largest = {"d": MAX_WINDOW_DAYS, "h": MAX_WINDOW_DAYS * 24, "w": MAX_WINDOW_DAYS // 7}[unit]
        raise BadInputError(f"{text.strip()!r} is too long a window; the largest is {largest}{unit}")
    return dt.timedelta(**{{"d": "days", "h": "hours", "w": "weeks"}[unit]: int(match.group(1))})


def _time(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _window_text(within: dt.timedelta) -> str:
    days = within / dt.timedelta(days=1)
    return f"{days:g} day(s)"


def text_lines(result: Result, within: dt.timedelta) -> list[str]:
    """One line per certificate, soonest first, then one per unreadable file."""
    from .escaping import escape

    rows = [("STATE", "DAYS", "NOT AFTER", "FILE", "ALIAS", "SUBJECT", "ISSUER")]
    for f in result.certificates:
        rows.append((result.state(f, within).upper(), str(result.days_left(f)),
                     f"{f.not_after:%Y-%m-%d %H:%M}", escape(f.file), escape(f.alias or "-"),
                     escape(f.subject or "-"), escape(f.issuer or "-")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows]
    lines += [f"UNREADABLE  {escape(u.file)}: {escape(u.reason)}" for u in result.unreadable]
    return [line.rstrip() for line in lines]


def summary(result: Result, within: dt.timedelta) -> str:
    states = [result.state(f, within) for f in result.certificates]
    text = (f"{len(states)} certificate(s) in {result.files} file(s): {states.count('expired')} expired, "
            f"{states.count('expiring')} expire within {_window_text(within)}")
    if result.unreadable:
        text += f"; {len(result.unreadable)} file(s) could not be read"
    return text


def as_json(result: Result, within: dt.timedelta) -> dict[str, object]:
    """The documented JSON (docs/expiry-json.md), every string escaped (escaping.escape)."""
    from .escaping import escape_data

    states = [result.state(f, within) for f in result.certificates]
    return escape_data({  # type: ignore[return-value]
        "format": JSON_FORMAT,
        "now": _time(result.now),
        "within_seconds": int(within.total_seconds()),
        "summary": {"certificates": len(states), "files": result.files, "expired": states.count("expired"),
                    "expiring": states.count("expiring"), "unreadable": len(result.unreadable)},
        "certificates": [
            {"file": f.file, "type": f.store_type, "alias": f.alias, "position": f.position,
             "subject": f.subject, "issuer": f.issuer, "serial": f.serial, "sha256": f.sha256,
             "not_before": _time(f.not_before), "not_after": _time(f.not_after),
             "days_left": result.days_left(f), "state": state}
            for f, state in zip(result.certificates, states, strict=True)
        ],
        "unreadable": [{"file": u.file, "reason": u.reason} for u in result.unreadable],
    })


def _label(value: str) -> str:
    from .escaping import prometheus_label

    return prometheus_label(value)


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in labels.items()) + "}"


def _cn(name: str) -> str:
    match = re.search(r"(?:^|,)CN=((?:\\.|[^,])*)", name)
    return match.group(1) if match else ""


def prometheus(result: Result) -> str:
    """The text exposition format for node_exporter's textfile collector, with the metric and
    label names of x509-certificate-exporter (enix/x509-certificate-exporter): not_after and
    not_before as Unix seconds, expired as 0 or 1, and the number of files it could not read."""
    series = []
    for f in result.certificates:
        labels = _labels(filepath=f.file, filename=os.path.basename(f.file), alias=f.alias or "",
                         store_type=f.store_type, serial_number=f.serial, subject=f.subject,
                         subject_CN=_cn(f.subject), issuer=f.issuer, issuer_CN=_cn(f.issuer))
        series.append((labels, f))
    out = []

    def metric(name: str, help_text: str, values: list[tuple[str, str]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} gauge")
        out.extend(f"{name}{labels} {value}" for labels, value in values)

    metric("x509_cert_not_after", "The certificate's notAfter, in Unix seconds.",
           [(labels, str(int(f.not_after.timestamp()))) for labels, f in series])
    metric("x509_cert_not_before", "The certificate's notBefore, in Unix seconds.",
           [(labels, str(int(f.not_before.timestamp()))) for labels, f in series])
    metric("x509_cert_expired", "1 when the certificate had expired at the scan, else 0.",
           [(labels, "1" if f.not_after < result.now else "0") for labels, f in series])
    metric("x509_read_errors", "Files that looked like certificates or keystores but could not be read.",
           [("", str(len(result.unreadable)))])
    metric("ktpy_expiry_unreadable", "1 for each file that could not be read, with the reason.",
           [(_labels(filepath=u.file, reason=u.reason), "1") for u in result.unreadable])
    metric("ktpy_expiry_scan_timestamp_seconds", "When the scan ran, in Unix seconds.",
           [("", str(int(result.now.timestamp())))])
    return "\n".join(out) + "\n"
