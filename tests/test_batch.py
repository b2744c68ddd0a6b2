"""issue-client --batch (a CSV of clients, issued on every core, resumable, all-or-nothing per row)
and build-keystore with several types in one run. EC keys keep these fast; no timing here (the
benchmarks are scripts in bench/)."""

from __future__ import annotations

import functools
import os
import stat

import pytest
from cryptography import x509
from helpers import assert_is_client, ktpy, missing

from keytool_py import load_keystore
from keytool_py.batch import parse_csv
from keytool_py.certs import load_certificates
from keytool_py.errors import BadInputError
from keytool_py.keystore import parse_types

CA_PW = "ca-password-1"
STORE_PW = "store-password-1"
ENV = {"KTPY_CA_PW": CA_PW, "KTPY_STORE_PW": STORE_PW}

CSV = """subject,name,sans,alias
"CN=orders-api,O=Acme",orders-api,email:orders@acme.com,Orders
"CN=Billing Service,O=Acme",,dns:billing.acme.com;email:billing@acme.com dns:b2.acme.com,
"CN=third,O=Acme",third,,
"""
BAD_SUBJECT = "cannot read subject 'CN=bad,C=USA' (Attribute's length must be >= 2 and <= 2, but it was 3); " \
              "write it as CN=name,O=organisation,C=US"


run = functools.partial(ktpy, env=ENV)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch") / "ca"
    run("create-ca", "--dir", folder, "--subject", "CN=Batch Root CA,O=Acme", "--key-type", "ec-p256",
        "--password", "env:KTPY_CA_PW")
    return folder


def batch(ca_dir, csv_path, out, *extra, code=0, storepass=("--storepass", "env:KTPY_STORE_PW")):
    return run("issue-client", "--ca", ca_dir, "--ca-password", "env:KTPY_CA_PW", "--batch", csv_path,
               "--key-type", "ec-p256", *storepass, "--out-dir", out, *extra, code=code)


def write_csv(tmp_path, text=CSV):
    path = tmp_path / "clients.csv"
    path.write_text(text)
    return path


# --- the CSV ------------------------------------------------------------------------------------

def test_parse_csv_defaults_and_san_separators():
    rows = parse_csv(CSV)
    assert [r.line for r in rows] == [2, 3, 4]
    assert [r.name for r in rows] == ["orders-api", "billing-service", "third"]
    assert [r.alias for r in rows] == ["orders", "billing-service", "third"]
    assert [r.alias_lowered for r in rows] == [True, False, False]
    assert rows[1].sans == ("dns:billing.acme.com", "email:billing@acme.com", "dns:b2.acme.com")
    assert all(r.error is None for r in rows)


def test_parse_csv_header_only_subject_and_comments():
    rows = parse_csv("\ufeffSubject\n# a comment\n\n\"CN=a,O=Acme\"\n")
    assert [(r.line, r.name, r.alias, r.sans) for r in rows] == [(4, "a", "a", ())]


@pytest.mark.parametrize("text, message", [
    ("CN=a,a\n", "line 1 must be the header row subject,name,sans,alias (subject is required, the rest "
                 "optional), not 'CN=a,a'"),
    ("name,alias\n", "line 1 must be the header row subject,name,sans,alias (subject is required, the rest "
                     "optional), not 'name,alias'"),
    ("", "the file holds no header row (subject,name,sans,alias) and no clients"),
])
def test_parse_csv_refuses_a_file_without_its_header(text, message):
    with pytest.raises(BadInputError) as info:
        parse_csv(text)
    assert str(info.value) == message


@pytest.mark.parametrize("row, error", [
    ('"CN=bad,C=USA",bad,,', BAD_SUBJECT),
    ("CN=x,O=Acme,x,,", "5 fields where the header has 4; quote a subject that holds commas: "
                        '"CN=client,O=Acme"'),
    ('"CN=x",x,ftp:host,', "unknown SAN type 'ftp' in 'ftp:host'; use dns:, email:, uri: or ip:"),
    ('"CN=x",../x,,', "the name '../x' is not usable in file names: use letters, digits, '.', '_' and '-'"),
    (',x,,', "the subject is empty"),
    ('"CN=one",one,,\n"CN=two",one,,', "the name 'one' is already used on line 2"),
])
def test_parse_csv_bad_rows_carry_their_error(row, error):
    rows = parse_csv("subject,name,sans,alias\n" + row + "\n")
    assert rows[-1].error == error
    assert all(r.error is None for r in rows[:-1])


def test_parse_types():
    assert [t.value for t in parse_types("jks, pkcs12,jks,jceks")] == ["jks", "pkcs12", "jceks"]
    with pytest.raises(BadInputError, match="^unknown keystore type 'bcfks'; choose "):
        parse_types("jks,bcfks")


# --- issue-client --batch -----------------------------------------------------------------------

def test_batch_issues_every_row_with_keystores(ca_dir, tmp_path):
    out = tmp_path / "out"
    result = batch(ca_dir, write_csv(tmp_path), out, "--types", "jks,pkcs12,jceks")
    assert "Issued 3 client certificate(s) (ec-p256) signed by CN=Batch Root CA,O=Acme" in result.stderr
    assert ("NAME.pem, NAME.key, NAME-chain.pem, NAME.jks, NAME.p12, NAME.jceks for each" in result.stderr)
    assert "Notice: the aliases on line 2 are stored in lowercase" in result.stderr
    assert "Issuing" not in result.output  # no progress bar when stderr is not a terminal
    ca_cert = load_certificates((ca_dir / "ca.pem").read_bytes())[0]
    expected = {"orders-api": "orders", "billing-service": "billing-service", "third": "third"}
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{name}{suffix}" for name in expected
        for suffix in (".pem", ".key", "-chain.pem", ".jks", ".p12", ".jceks"))
    for name, alias in expected.items():
        cert = load_certificates((out / f"{name}.pem").read_bytes())[0]
        assert_is_client(cert, ca_cert)
        assert load_certificates((out / f"{name}-chain.pem").read_bytes()) == [cert, ca_cert]
        assert mode(out / f"{name}.key") == 0o600 and mode(out / f"{name}.pem") == 0o644
        for suffix in (".jks", ".p12", ".jceks"):
            assert mode(out / f"{name}{suffix}") == 0o600
            entry = load_keystore((out / f"{name}{suffix}").read_bytes(), STORE_PW).entry(alias)
            assert entry.chain == (cert, ca_cert)
            assert entry.key.public_key() == cert.public_key()
    sans = load_certificates((out / "billing-service.pem").read_bytes())[0].extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["billing.acme.com", "b2.acme.com"]
    assert sans.get_values_for_type(x509.RFC822Name) == ["billing@acme.com"]
    assert mode(out) == 0o700


def test_batch_resumes_skipping_rows_already_done(ca_dir, tmp_path):
    out, csv_path = tmp_path / "out", write_csv(tmp_path)
    batch(ca_dir, csv_path, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = batch(ca_dir, csv_path, out)
    assert "Skipped 3 row(s) already done (all their files exist in" in again.stderr
    assert "Nothing to do: every row is already done" in again.stderr
    # a row lost whole (deleted, or never finished) is issued again; the others are kept
    for suffix in (".pem", ".key", "-chain.pem", ".jks"):
        (out / f"third{suffix}").unlink()
    third = batch(ca_dir, csv_path, out)
    assert "Issued 1 client certificate(s)" in third.stderr
    assert "Skipped 2 row(s) already done" in third.stderr
    assert all((out / n).read_bytes() == data for n, data in before.items() if not n.startswith("third"))
    assert (out / "third.jks").read_bytes() != before["third.jks"]


def test_batch_half_done_row_fails_alone(ca_dir, tmp_path):
    out, csv_path = tmp_path / "out", write_csv(tmp_path)
    out.mkdir()
    (out / "third.key").write_text("someone else's key\n")
    result = batch(ca_dir, csv_path, out, code=None)
    assert result.exit_code == 1
    assert "Issued 2 client certificate(s)" in result.stderr
    assert f"Error: line 4 (third): {out / 'third.key'} already exists; pass --force to replace it" in result.stderr
    assert (out / "third.key").read_text() == "someone else's key\n"
    assert not (out / "third.pem").exists()
    done = {n: (out / f"orders-api{n}").read_bytes() for n in (".pem", ".key", ".jks")}
    forced = batch(ca_dir, csv_path, out, "--force")
    # --force replaces what is in the way of the unfinished row only: the done rows' keys may be in use
    assert "Issued 1 client certificate(s)" in forced.stderr
    assert "Skipped 2 row(s) already done" in forced.stderr
    assert (out / "third.key").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert {n: (out / f"orders-api{n}").read_bytes() for n in (".pem", ".key", ".jks")} == done


def test_batch_bad_row_fails_only_that_row(ca_dir, tmp_path):
    text = CSV + '"CN=bad,C=USA",bad,,\n'
    out = tmp_path / "out"
    result = batch(ca_dir, write_csv(tmp_path, text), out, code=None)
    assert result.exit_code == 1
    assert "Issued 3 client certificate(s)" in result.stderr
    assert f"Error: line 5 (bad): {BAD_SUBJECT}" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1] == (
        "Error: 1 of 4 row(s) failed (line 5); fix them and run the same command again: the rows already "
        "done are skipped")
    assert not list(out.glob("bad*"))
    assert (out / "third.jks").exists()


def test_batch_generated_password_per_client(ca_dir, tmp_path):
    out = tmp_path / "out"
    result = batch(ca_dir, write_csv(tmp_path), out, "--types", "pkcs12", "--generate-passwords", storepass=())
    assert "each client's in NAME-storepass.txt (mode 0600)" in result.stderr
    passwords = set()
    for name, alias in (("orders-api", "orders"), ("third", "third")):
        password_file = out / f"{name}-storepass.txt"
        assert mode(password_file) == 0o600
        password = password_file.read_text().strip()
        passwords.add(password)
        assert load_keystore((out / f"{name}.p12").read_bytes(), password).entry(alias).key is not None
    assert len(passwords) == 2
    assert STORE_PW not in result.output


def test_batch_generated_store_password_file_is_kept(ca_dir, tmp_path):
    out, pw_file = tmp_path / "out", tmp_path / "pass.txt"
    batch(ca_dir, write_csv(tmp_path), out, storepass=("--storepass", f"generate:{pw_file}"))
    password = pw_file.read_text().strip()
    assert mode(pw_file) == 0o600
    assert load_keystore((out / "third.jks").read_bytes(), password).entry("third").key is not None


def test_batch_progress_bar_on_a_terminal(ca_dir, tmp_path, monkeypatch):
    from keytool_py.cli import ca_cmds

    monkeypatch.setattr(ca_cmds, "_stderr_is_terminal", lambda: True)
    result = batch(ca_dir, write_csv(tmp_path), tmp_path / "out")
    assert "Issuing" in result.stderr


@pytest.mark.parametrize("extra, message", [
    (("--subject", "CN=x"), "--batch takes the subjects, names and SANs from the file; leave out --subject, "
                            "--name and --san"),
    (("--generate-passwords",), "give --storepass or --generate-passwords, not both"),
    (("--types", "jks,bcfks"), "Invalid value for '--types': unknown keystore type 'bcfks'; choose "),
])
def test_batch_usage_errors(ca_dir, tmp_path, extra, message):
    result = batch(ca_dir, write_csv(tmp_path), tmp_path / "out", *extra, code=None)
    assert result.exit_code == 2
    assert f"Error: {message}" in result.stderr
    assert not (tmp_path / "out").exists()


def test_batch_needs_a_store_password_source(ca_dir, tmp_path):
    result = batch(ca_dir, write_csv(tmp_path), tmp_path / "out", code=None, storepass=())
    assert result.exit_code == 2
    assert ("Error: --batch needs --storepass SRC (one password for every keystore) or --generate-passwords "
            "(one per client)") in result.stderr


def test_batch_options_need_batch(ca_dir, tmp_path):
    result = run("issue-client", "--ca", ca_dir, "--ca-password", "env:KTPY_CA_PW", "--subject", "CN=x",
                 "--out-dir", tmp_path / "out", "--types", "jks", code=None)
    assert result.exit_code == 2
    assert "Error: --types go(es) with --batch; for one client, make keystores with build-keystore" in result.stderr
    result = run("issue-client", "--ca", ca_dir, "--out-dir", tmp_path / "out", code=None)
    assert result.exit_code == 2
    assert "Error: give --subject (one client) or --batch FILE.csv (one per row)" in result.stderr


def test_batch_short_store_password_refused_before_any_work(ca_dir, tmp_path):
    result = ktpy("issue-client", "--ca", str(ca_dir), "--ca-password", "env:KTPY_CA_PW", "--batch",
                  str(write_csv(tmp_path)), "--storepass", "env:SHORT", "--out-dir", str(tmp_path / "out"),
                  env={**ENV, "SHORT": "abc"}, code=None)
    assert result.exit_code == 1
    assert "Error: the store password must be at least 6 characters (keytool refuses shorter ones)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_batch_without_header_is_refused(ca_dir, tmp_path):
    result = batch(ca_dir, write_csv(tmp_path, '"CN=a,O=Acme",a,,\n'), tmp_path / "out", code=None)
    assert result.exit_code == 1
    assert "Error: line 1 must be the header row subject,name,sans,alias" in result.stderr


# --- build-keystore with several types ----------------------------------------------------------

@pytest.fixture(scope="module")
def client(ca_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("client")
    run("issue-client", "--ca", ca_dir, "--ca-password", "env:KTPY_CA_PW", "--subject", "CN=Mule Client,O=Acme",
        "--key-type", "ec-p256", "--out-dir", out)
    return out


def build(client, *args, code=0):
    return run("build-keystore", "--key", client / "mule-client.key", "--cert", client / "mule-client-chain.pem",
               "--alias", "mule-client", "--storepass", "env:KTPY_STORE_PW", *args, code=code)


def assert_stores(paths):
    for path in paths:
        assert mode(path) == 0o600
        entry = load_keystore(path.read_bytes(), STORE_PW).entry("mule-client")
        assert entry.key is not None and len(entry.chain) == 2


def test_build_keystore_several_types_with_a_stem(client, tmp_path):
    result = build(client, "--type", "jks,pkcs12,jceks", "-o", tmp_path / "stores" / "mule")
    paths = [tmp_path / "stores" / f"mule{s}" for s in (".jks", ".p12", ".jceks")]
    assert_stores(paths)
    assert sorted((tmp_path / "stores").iterdir()) == sorted(paths)
    assert result.stderr.startswith(f"Wrote {paths[0]} (JKS), {paths[1]} (PKCS12), {paths[2]} (JCEKS), mode 0600: "
                                    "alias 'mule-client', chain of 2: CN=Mule Client,O=Acme, CN=Batch Root CA,O=Acme")


@pytest.mark.parametrize("existing", [True, False])
def test_build_keystore_several_types_into_a_folder(client, tmp_path, existing):
    folder = tmp_path / "out"
    if existing:
        folder.mkdir()
    build(client, "--type", "pkcs12,jks", "-o", str(folder) + ("" if existing else "/"))
    assert sorted(p.name for p in folder.iterdir()) == ["keystore.jks", "keystore.p12"]
    assert_stores([folder / "keystore.jks", folder / "keystore.p12"])


def test_build_keystore_one_type_keeps_o_as_the_file(client, tmp_path):
    result = build(client, "--type", "jceks", "-o", tmp_path / "exact.name")
    assert_stores([tmp_path / "exact.name"])
    assert result.stderr.startswith(f"Wrote {tmp_path / 'exact.name'} (JCEKS, mode 0600): alias 'mule-client'")


def test_build_keystore_several_types_all_or_nothing(client, tmp_path):
    (tmp_path / "mule.p12").write_bytes(b"old")
    result = build(client, "--type", "jks,pkcs12", "-o", tmp_path / "mule", code=None)
    assert result.exit_code == 1
    assert f"Error: {tmp_path / 'mule.p12'} already exists; pass --force to replace it" in result.stderr
    assert not (tmp_path / "mule.jks").exists()
    result = build(client, "--type", "jks,pkcs12", "--keypass", "env:KTPY_CA_PW", "-o", tmp_path / "other",
                   code=None)
    assert result.exit_code == 1
    assert "a PKCS12 keystore cannot have a key password different from its store password" in result.stderr
    assert not (tmp_path / "other.jks").exists()


@pytest.mark.parametrize("type_, out, message", [
    ("jks,pkcs12", "ks.p12", "with several --type values, -o is a stem or a folder, not a file name: -o ks "
                             "writes ks.jks, ks.p12"),
    ("jks,bcfks", "ks", "Invalid value for '--type': 'bcfks' is not one of 'jks', 'pkcs12', 'jceks' (several may "
                      "be given separated by commas)"),
])
def test_build_keystore_several_types_usage_errors(client, tmp_path, monkeypatch, type_, out, message):
    monkeypatch.chdir(tmp_path)
    result = build(client, "--type", type_, "-o", out, code=None)
    assert result.exit_code == 2
    assert f"Error: {message}" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- faults: collisions, bad rows, a killed run ---------------------------------------------------

def test_batch_refuses_colliding_names_before_issuing(ca_dir, tmp_path):
    text = 'subject,name\n"CN=x",x\n"CN=x chain",x-chain\n"CN=y",y\n'
    out = tmp_path / "out"
    for _ in range(2):  # the rerun says the same: the collision, not "already exists"
        result = batch(ca_dir, write_csv(tmp_path, text), out, code=None)
        assert result.exit_code == 1
        assert ("Error: line 3 (x-chain): its file x-chain.pem is also a file of line 2 (x); give one of them "
                "another name") in result.stderr
        assert not (out / "x-chain.key").exists()
    assert load_certificates((out / "x-chain.pem").read_bytes())[0].subject.rfc4514_string() == "CN=x"


def test_batch_bad_rows_fail_alone(ca_dir, tmp_path):
    long_name = "n" * 300
    text = CSV + f'"CN=umlaut",umlaut,email:jörg@acme.com,\n"CN=long",{long_name},,\n'
    out = tmp_path / "out"
    result = batch(ca_dir, write_csv(tmp_path, text), out, code=None)
    assert result.exit_code == 1
    assert "Issued 3 client certificate(s)" in result.stderr
    assert ("Error: line 5 (umlaut): SAN 'email:jörg@acme.com' holds non-ASCII characters; X.509 allows ASCII "
            "only there (write a domain in its xn-- form)") in result.stderr
    assert ("Error: line 6: the name 'nnnnnnnnnnnnnnnnnnnn...' is 300 bytes long; file names allow 221 with the "
            "longest suffix (-storepass.txt)") in result.stderr
    assert "unexpected failure" not in result.stderr
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(("umlaut", "n"))) == []


KILLER = """
import os, signal, sys
calls = [0]
real_link = os.link
def link(*args, **kwargs):
    calls[0] += 1
    if calls[0] == int(os.environ["KILL_AT_LINK"]):
        os.kill(os.getpid(), signal.SIGKILL)  # killed while placing a row's files
    return real_link(*args, **kwargs)
os.link = link
from keytool_py.cli import cli
cli.main(args=sys.argv[1:], prog_name="ktpy")
"""


def _killed_batch(ca_dir, csv_path, out, kill_at_link):
    import subprocess
    import sys

    args = ["issue-client", "--ca", str(ca_dir), "--ca-password", "env:KTPY_CA_PW", "--batch", str(csv_path),
            "--key-type", "ec-p256", "--storepass", "env:KTPY_STORE_PW", "--out-dir", str(out)]
    env = {**os.environ, **ENV, "KILL_AT_LINK": str(kill_at_link)}
    proc = subprocess.run([sys.executable, "-c", KILLER, *args], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    # one row whole, one row with its first file placed (4 files a row: .pem .key -chain.pem .jks)
    names = {"orders-api", "billing-service", "third"}
    files = {n: sorted(p.name for p in out.iterdir() if p.name.startswith(n)) for n in names}
    partial = [n for n in names if 0 < len(files[n]) < 4]
    assert len(partial) == 1 and sum(len(f) == 4 for f in files.values()) == 1, files
    assert [p for p in out.iterdir() if p.name.endswith(".tmp")]  # the crash left temporary files
    assert (out / ".ktpy-batch-journal").exists()
    return partial[0], files[partial[0]]


def _pairs_match(out, name):
    from cryptography.hazmat.primitives import serialization

    from keytool_py.keys import same_public_key

    key = serialization.load_pem_private_key((out / f"{name}.key").read_bytes(), None)
    cert = load_certificates((out / f"{name}.pem").read_bytes())[0]
    stored = load_keystore((out / f"{name}.jks").read_bytes(), STORE_PW).entries[0]
    return same_public_key(key.public_key(), cert.public_key()) and stored.chain[0] == cert


def test_batch_killed_while_writing_a_row_is_finished_by_a_rerun(ca_dir, tmp_path):
    out, csv_path = tmp_path / "out", write_csv(tmp_path)
    partial, placed = _killed_batch(ca_dir, csv_path, out, kill_at_link=6)
    done_before = {p.name: p.read_bytes() for p in out.iterdir()
                   if not p.name.startswith((".", partial)) and p.is_file()}
    result = batch(ca_dir, csv_path, out)
    assert ("Recovered from an interrupted run: 0 row(s) found complete, "
            f"{len(placed) + 4} leftover file(s) of unfinished rows removed") in result.stderr  # + 4 temp files
    assert "Issued 2 client certificate(s)" in result.stderr
    assert "Skipped 1 row(s) already done" in result.stderr
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp files, no journal
    assert {n: (out / n).read_bytes() for n in done_before} == done_before  # the done row kept its key
    for name in ("orders-api", "billing-service", "third"):
        assert _pairs_match(out, name)


def test_batch_rerun_never_removes_a_file_it_cannot_prove_it_wrote(ca_dir, tmp_path):
    out, csv_path = tmp_path / "out", write_csv(tmp_path)
    partial, placed = _killed_batch(ca_dir, csv_path, out, kill_at_link=6)
    (out / placed[0]).write_bytes(b"a file someone put there after the crash\n")
    result = batch(ca_dir, csv_path, out, code=None)
    assert f"{out / placed[0]} already exists; pass --force to replace it" in result.stderr
    assert (out / placed[0]).read_bytes() == b"a file someone put there after the crash\n"
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []


def _children(pid: int) -> list[int]:
    found = []
    for stat_file in os.listdir("/proc"):
        if stat_file.isdigit():
            try:
                fields = open(f"/proc/{stat_file}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(stat_file))
    return found


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie holds no memory


# The batch starts one worker per core: on a 1-core machine the killed batch is told it has two.
TWO_CORES = "import os, sys; os.cpu_count = lambda: 2; from keytool_py.cli import main; sys.argv[0] = 'ktpy'; main()"


def test_batch_workers_die_with_a_killed_parent(ca_dir, tmp_path):
    """The workers hold the CA key: a SIGKILLed batch must not leave them running."""
    import signal
    import subprocess
    import sys
    import time

    if not os.path.isdir("/proc"):
        missing("the workers are found through /proc, which is not mounted")

    rows = "".join(f'"CN=c{i}",c{i},,\n' for i in range(40))
    csv_path = write_csv(tmp_path, "subject,name,sans,alias\n" + rows)
    args = ["issue-client", "--ca", str(ca_dir), "--ca-password", "env:KTPY_CA_PW", "--batch", str(csv_path),
            "--key-type", "ec-p256", "--types", "jceks", "--storepass", "env:KTPY_STORE_PW",
            "--out-dir", str(tmp_path / "out")]
    proc = subprocess.Popen([sys.executable, "-c", TWO_CORES, *args], env={**os.environ, **ENV},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            workers = _children(proc.pid)
        assert len(workers) >= 2, "the batch never started its workers"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_batch_refuses_a_folder_another_batch_is_writing_into(ca_dir, tmp_path):
    """A second run must not take the first one's files for leftovers of a crash."""
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a running batch holds it
        result = batch(ca_dir, write_csv(tmp_path), out, code=None)
    finally:
        os.close(fd)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"Error: another batch is writing into {out}; wait for it to finish"
    assert list(out.iterdir()) == []
