"""verify: 0 problems for a good chain, and a named problem for each way a chain goes wrong."""

import datetime as dt

import pytest
from helpers import ktpy

from keytool_py import KeyType, create_ca
from keytool_py.verify import verify

FIXED = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def pki(key_pool):
    root = create_ca("CN=V Root,O=Acme", key=key_pool(KeyType.EC_P256, 20), now=FIXED)
    inter = create_ca("CN=V Issuing CA,O=Acme", parent=root, key=key_pool(KeyType.EC_P256, 21), now=FIXED)
    leaf = inter.issue_client("CN=v-client,O=Acme", key=key_pool(KeyType.RSA2048), now=FIXED)
    other = create_ca("CN=V Other Root", key=key_pool(KeyType.EC_P256, 22), now=FIXED)
    return root, inter, leaf, other


def checks(report):
    return [f.check for f in report.problems]


def test_good_chain(pki):
    root, inter, leaf, _ = pki
    report = verify(leaf.cert, intermediates=[inter.cert], roots=[root.cert], key=leaf.key,
                    profile="salesforce-mtls", now=FIXED, trusted_public=[])
    assert report.ok and report.chain == (leaf.cert, inter.cert, root.cert)
    assert [f.check for f in report.warnings] == ["private-root"]


def test_publicly_trusted_root_gives_no_warning(pki):
    root, inter, leaf, _ = pki
    report = verify(leaf.cert, intermediates=[inter.cert], roots=[root.cert], profile="salesforce-mtls",
                    now=FIXED, trusted_public=[root.cert])
    assert report.ok and report.warnings == ()


def test_chain_checked_against_its_own_root_without_ca(pki):
    root, inter, leaf, _ = pki
    assert verify(leaf.cert, intermediates=[inter.cert, root.cert], now=FIXED).ok


def test_self_signed_for_salesforce_mtls(pki):
    root = pki[0]
    report = verify(root.cert, roots=[root.cert], profile="salesforce-mtls", now=FIXED, trusted_public=[])
    assert "self-signed" in checks(report)
    message = next(f.message for f in report.problems if f.check == "self-signed")
    assert message == ("CN=V Root,O=Acme is self-signed: Salesforce refuses self-signed mutual "
                       "authentication certificates")


def test_self_signed_is_fine_for_jwt(key_pool):
    ca = create_ca("CN=jwt-self", key=key_pool(KeyType.RSA2048), now=FIXED)
    assert verify(ca.cert, profile="salesforce-jwt", now=FIXED).ok


def test_jwt_needs_rsa(pki, key_pool):
    ec_leaf = pki[1].issue_client("CN=ec", key=key_pool(KeyType.EC_P256), now=FIXED)
    report = verify(ec_leaf.cert, intermediates=[pki[1].cert, pki[0].cert], profile="salesforce-jwt", now=FIXED)
    assert checks(report) == ["not-rsa"]


def test_expired(pki):
    root, inter, leaf, _ = pki
    report = verify(leaf.cert, intermediates=[inter.cert], roots=[root.cert], now=FIXED + dt.timedelta(days=400))
    assert checks(report) == ["expired"]
    assert report.problems[0].message.startswith("CN=v-client,O=Acme expired on 2027-11-01")


def test_not_yet_valid(pki):
    root, inter, leaf, _ = pki
    report = verify(leaf.cert, intermediates=[inter.cert], roots=[root.cert], now=FIXED - dt.timedelta(days=1))
    assert set(checks(report)) == {"not-yet-valid"}
    assert "is not valid before 2026-11-01 11:55 UTC" in report.problems[0].message


def test_wrong_root(pki):
    root, inter, leaf, other = pki
    report = verify(leaf.cert, intermediates=[inter.cert, root.cert], roots=[other.cert], now=FIXED)
    assert checks(report) == ["wrong-root"]
    assert report.problems[0].message == ("the chain ends at CN=V Root,O=Acme, which is not one of the roots "
                                          "given with --ca")


def test_missing_intermediate(pki):
    root, _, leaf, _ = pki
    report = verify(leaf.cert, roots=[root.cert], now=FIXED)
    assert checks(report) == ["missing-intermediate"]
    assert report.problems[0].message == ("no certificate for CN=V Issuing CA,O=Acme, the issuer of "
                                          "CN=v-client,O=Acme; add it with --chain")


def test_same_name_other_key_is_wrong_root(pki, key_pool):
    root, inter, leaf, _ = pki
    impostor = create_ca("CN=V Root,O=Acme", key=key_pool(KeyType.EC_P256, 23), now=FIXED)
    report = verify(leaf.cert, intermediates=[inter.cert], roots=[impostor.cert], now=FIXED)
    assert checks(report) == ["wrong-root"]
    assert "did not sign it" in report.problems[0].message


def test_key_mismatch(pki, key_pool):
    root, inter, leaf, _ = pki
    report = verify(leaf.cert, intermediates=[inter.cert], roots=[root.cert], key=key_pool(KeyType.EC_P256), now=FIXED)
    assert checks(report) == ["key-mismatch"]


def test_client_profile_rules(pki):
    root, inter, _, _ = pki
    report = verify(inter.cert, roots=[root.cert], profile="client", now=FIXED)
    assert checks(report) == ["no-client-auth", "leaf-is-ca"]


def test_server_cert_is_not_a_client_cert(pki, key_pool):
    server = pki[1].issue_server("CN=srv", key=key_pool(KeyType.EC_P256), now=FIXED)
    report = verify(server.cert, intermediates=[pki[1].cert], roots=[pki[0].cert], profile="salesforce-mtls",
                    now=FIXED, trusted_public=[])
    assert checks(report) == ["no-client-auth"]


# --- the same through `ktpy verify`: exit 0 for a good chain, 3 with the named problem ---

@pytest.fixture(scope="module")
def verify_files(tmp_path_factory, pki, key_pool):
    from keytool_py.certs import to_pem
    from keytool_py.keys import private_key_to_pem

    root, inter, leaf, other = pki
    folder = tmp_path_factory.mktemp("verify")
    now = dt.datetime.now(dt.timezone.utc)
    live_root = create_ca("CN=Live Root", key=key_pool(KeyType.EC_P256, 24), now=now)
    live = live_root.issue_client("CN=live", key=key_pool(KeyType.EC_P256, 25), now=now)
    files = {
        "root.pem": to_pem([live_root.cert]), "other.pem": to_pem([other.cert]),
        "good.pem": to_pem(live.chain), "leaf.key": private_key_to_pem(live.key),
        "other.key": private_key_to_pem(key_pool(KeyType.EC_P256, 26)),
        "expired.pem": to_pem(create_ca("CN=Old", key=key_pool(KeyType.EC_P256, 27), days=1,
                                        now=now - dt.timedelta(days=5)).issue_client(
            "CN=old-client", key=key_pool(KeyType.EC_P256, 28), now=now - dt.timedelta(days=5)).chain),
        "future.pem": to_pem(live_root.issue_client("CN=future", key=key_pool(KeyType.EC_P256, 29),
                                                    now=now + dt.timedelta(days=3)).chain),
        "inter-root.pem": to_pem([root.cert]), "leaf-only.pem": to_pem([leaf.cert]),
        "self.pem": to_pem([live_root.cert]),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize("args,code,check", [
    (["good.pem", "--ca", "root.pem", "--key", "leaf.key", "--profile", "client"], 0, None),
    (["self.pem", "--ca", "root.pem", "--profile", "salesforce-mtls"], 3, "self-signed"),
    (["expired.pem"], 3, "expired"),
    (["future.pem", "--ca", "root.pem"], 3, "not-yet-valid"),
    (["good.pem", "--ca", "other.pem"], 3, "wrong-root"),
    (["leaf-only.pem", "--ca", "inter-root.pem"], 3, "missing-intermediate"),
    (["good.pem", "--ca", "root.pem", "--key", "other.key"], 3, "key-mismatch"),
])
def test_verify_cli(verify_files, args, code, check):


    result = ktpy("verify", *[str(verify_files / a) if a.endswith((".pem", ".key")) else a
                  for a in args], code=None)
    assert result.exit_code == code, result.output
    if check is None:
        assert result.stdout.splitlines()[-1] == "OK: every check holds"
    else:
        assert any(line.startswith(f"FAIL {check}: ") for line in result.stdout.splitlines()), result.stdout


FORGED = "x\nOK: every check holds\x1b[2K\r"


@pytest.fixture(scope="module")
def forged(tmp_path_factory, key_pool, now):
    """A certificate (made with cryptography, which allows it) whose CN holds CR, LF and a
    terminal escape, issued by an expired CA so that a check fails."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    from keytool_py.certs import to_pem

    key = key_pool(KeyType.EC_P256, 30)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FORGED)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now - dt.timedelta(days=9)).not_valid_after(now - dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path_factory.mktemp("forged") / "forged.pem"
    path.write_bytes(to_pem([cert]))
    return path


@pytest.mark.parametrize("command", ["verify", "inspect", "export-pem"])
def test_control_characters_in_names_cannot_forge_lines(forged, command):


    args = [command, str(forged)] + (["-o", str(forged.parent / f"out-{command}.pem")] if command == "export-pem"
                                     else [])
    result = ktpy(*args, code=None)
    for stream in (result.stdout, result.stderr):
        assert "OK: every check holds" not in stream.splitlines()
        assert "\x1b" not in stream and "\r" not in stream
    assert "x\\nOK: every check holds\\x1b[2K\\r" in result.stdout + result.stderr
    if command == "verify":
        assert result.exit_code == 3
        assert result.stdout.splitlines()[-1] == "1 problem(s) found"
