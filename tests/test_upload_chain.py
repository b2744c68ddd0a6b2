"""The PEM uploaded to Salesforce is the client certificate, then each intermediate in
order, without the root (Salesforce Help, "Configure Your API Client to Use Mutual Authentication");
export-pem writes it in order from any bundle; verify --profile salesforce-mtls checks it.

Oracle: `openssl verify -partial_chain`, each certificate against the next one alone as the anchor.
"""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from helpers import NOW, ktpy, require_tool
from interop import describe, run_openssl

from keytool_py import CA, KeyType, create_ca, generate_key, issue
from keytool_py.certs import is_self_issued, load_certificates, to_pem
from keytool_py.kit import build_kit
from keytool_py.upload import upload_chain
from keytool_py.verify import verify

EC = KeyType.EC_P256
PRIVATE_ROOT_WARNING = "WARN private-root: the root CN=Up Root is not in the public trust bundle"


run = ktpy


@pytest.fixture(scope="module")
def cas(key_pool):
    """root -> mid -> issuing: a kit from the root, from mid (one intermediate), from issuing (two)."""
    root = create_ca("CN=Up Root", key=key_pool(EC, 20), now=NOW)
    # create_ca gives an intermediate under a root pathLenConstraint 0; mid needs 1 to have one below
    mid_key = key_pool(EC, 21)
    mid_cert = issue.sign(subject=x509.Name.from_rfc4514_string("CN=Up Mid"), public_key=mid_key.public_key(),
                          issuer_name=root.cert.subject, issuer_key=root.key, issuer_cert=root.cert,
                          days=issue.CA_DAYS, now=NOW, extensions=issue.ca_extensions(mid_key.public_key(), 1))
    mid = CA(key=mid_key, cert=mid_cert, chain=(mid_cert, root.cert))
    issuing = create_ca("CN=Up Issuing", key=key_pool(EC, 22), parent=mid, now=NOW)
    return {"root": root, "intermediate": mid, "three-level": issuing}


@pytest.fixture(scope="module")
def kits(cas, key_pool):
    return {name: build_kit("CN=mule-client,O=Acme", storepass="changeit", ca=ca, store_types="jks",
                            key_type=EC, now=NOW)
            for name, ca in cas.items()}


@pytest.fixture(scope="module")
def three(cas):
    """(leaf, issuing, mid, root) of a three-level chain."""
    client = cas["three-level"].issue_client("CN=deep-client", key_type=EC, now=NOW)
    return client.chain


@pytest.mark.interop
@pytest.mark.parametrize("name, expected", [
    ("root", ["CN=mule-client,O=Acme"]),
    ("intermediate", ["CN=mule-client,O=Acme", "CN=Up Mid"]),
    ("three-level", ["CN=mule-client,O=Acme", "CN=Up Issuing", "CN=Up Mid"]),
])
def test_kit_upload_file_is_leaf_then_intermediates_without_root(kits, cas, tmp_path, name, expected):
    require_tool("openssl")
    made = kits[name]
    upload = load_certificates(made.file("salesforce-upload.pem").data)
    assert [c.subject.rfc4514_string() for c in upload] == expected
    assert not any(is_self_issued(c) for c in upload)
    # each certificate signed by the next, by OpenSSL; the last one by the root (left out of the file)
    root = cas["root"].root
    anchors = [*upload[1:], root]
    for i, (cert, anchor) in enumerate(zip(upload, anchors, strict=True)):
        (tmp_path / f"c{i}.pem").write_bytes(to_pem([cert]))
        (tmp_path / f"a{i}.pem").write_bytes(to_pem([anchor]))
        proc = run_openssl("verify", "-partial_chain", "-CAfile", tmp_path / f"a{i}.pem",
                           "-untrusted", tmp_path / f"a{i}.pem", tmp_path / f"c{i}.pem")
        assert proc.stdout.strip() == f"{tmp_path / f'c{i}.pem'}: OK", describe(proc)
    # and the whole file, as Salesforce builds it: the upload file untrusted, the root trusted
    (tmp_path / "up.pem").write_bytes(made.file("salesforce-upload.pem").data)
    (tmp_path / "root.pem").write_bytes(to_pem([root]))
    (tmp_path / "leaf.pem").write_bytes(to_pem(upload[:1]))
    proc = run_openssl("verify", "-CAfile", tmp_path / "root.pem", "-untrusted", tmp_path / "up.pem",
                       tmp_path / "leaf.pem")
    assert proc.returncode == 0, describe(proc)
    # a wrong neighbour is refused by the same check: the check can fail
    if len(upload) == 3:
        proc = run_openssl("verify", "-partial_chain", "-CAfile", tmp_path / "a1.pem", tmp_path / "c0.pem")
        assert proc.returncode != 0


def test_kit_readme_says_which_file_to_upload_and_why(kits):
    text = kits["three-level"].file("README.txt").data.decode()
    assert ("  salesforce-upload.pem\n"
            "      Salesforce, mutual TLS: Setup > Certificate and Key Management > Upload Mutual\n"
            "      Authentication Certificate. This is the file to upload: the client certificate, then\n"
            "      2 intermediate CA certificate(s) in order, without the root.\n"
            "      Why: Salesforce Help (\"Configure Your API Client to Use Mutual Authentication\") asks for\n"
            "      the chain in one PEM, client certificate first, then the certificate that signed it, then\n"
            "      each further intermediate; the root is optional and generally not included.\n") in text
    root_text = kits["root"].file("README.txt").data.decode()
    assert ("This is the file to upload: the client certificate alone\n"
            "      (its CA is the root, and the root is left out).\n") in root_text
    assert "salesforce-upload-chain.pem" not in text
    assert [f.name for f in kits["root"].files if "upload" in f.name] == ["salesforce-upload.pem"]


# --- export-pem ---

def test_export_pem_writes_an_out_of_order_bundle_in_order(three, tmp_path):
    leaf, issuing, mid, root = three
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(to_pem([mid, root, leaf, issuing]))
    out = run("export-pem", bundle, "--with-chain", "-o", tmp_path / "up.pem")
    assert load_certificates((tmp_path / "up.pem").read_bytes()) == [leaf, issuing, mid]
    assert out.stderr.startswith(f"Wrote {tmp_path / 'up.pem'}: 3 certificate(s), CN=deep-client, valid until ")
    with_root = run("export-pem", bundle, "--with-chain", "--with-root")
    assert load_certificates(with_root.stdout.encode()) == [leaf, issuing, mid, root]
    alone = run("export-pem", bundle)
    assert load_certificates(alone.stdout.encode()) == [leaf]


def test_export_pem_with_root_needs_the_root(three, tmp_path):
    leaf, issuing, mid, _ = three
    bundle = tmp_path / "noroot.pem"
    bundle.write_bytes(to_pem([issuing, leaf, mid]))
    result = run("export-pem", bundle, "--with-chain", "--with-root", code=1)
    assert result.stderr == ("Error: the root is not given: the chain stops at CN=Up Mid, issued by CN=Up Root\n")
    usage = run("export-pem", bundle, "--with-root", code=2)
    assert "Error: --with-root goes with --with-chain" in usage.stderr


def test_upload_chain_refuses_a_stranger(three, cas):
    stranger = cas["root"].issue_client("CN=stranger", key_type=EC, now=NOW).cert
    with pytest.raises(ValueError, match="not in the chain of CN=deep-client: CN=stranger"):
        upload_chain([*three, stranger])


# --- verify --profile salesforce-mtls on the upload file ---

def _verify_file(tmp_path, certs_in_file, *extra, code):
    path = tmp_path / "upload.pem"
    path.write_bytes(to_pem(certs_in_file))
    return run("verify", path, "--profile", "salesforce-mtls", *extra, code=code)


def test_verify_upload_in_order_passes(three, tmp_path):
    leaf, issuing, mid, root = three
    (tmp_path / "root.pem").write_bytes(to_pem([root]))
    result = _verify_file(tmp_path, [leaf, issuing, mid], "--ca", tmp_path / "root.pem", code=0)
    assert result.stdout.splitlines() == [
        "Chain: CN=deep-client -> CN=Up Issuing -> CN=Up Mid -> CN=Up Root",
        PRIVATE_ROOT_WARNING + ": Salesforce's production endpoint refuses private roots unless Salesforce "
        "support has added that root",
        "OK: every check holds"]


def test_verify_upload_wrong_order_fails(three, tmp_path):
    leaf, issuing, mid, root = three
    (tmp_path / "root.pem").write_bytes(to_pem([root]))
    result = _verify_file(tmp_path, [leaf, mid, issuing], "--ca", tmp_path / "root.pem", code=3)
    assert ("FAIL upload-order: the file is not in order: CN=deep-client is not signed by CN=Up Mid, the "
            "certificate after it; Salesforce wants the client certificate first, then the certificate that "
            "signed it, then each further intermediate (ktpy export-pem --with-chain writes them in order)"
            ) in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == "1 problem(s) found"


def test_verify_upload_leaf_not_first_fails_on_order_only(three, tmp_path):
    leaf, issuing, mid, root = three
    (tmp_path / "root.pem").write_bytes(to_pem([root]))
    result = _verify_file(tmp_path, [issuing, mid, leaf], "--ca", tmp_path / "root.pem", code=3)
    lines = result.stdout.splitlines()
    assert lines[0] == "Chain: CN=deep-client -> CN=Up Issuing -> CN=Up Mid -> CN=Up Root"
    assert [line.split(":")[0] for line in lines if line.startswith("FAIL")] == ["FAIL upload-order"]


def test_verify_upload_missing_intermediate_fails(three, tmp_path):
    leaf, issuing, mid, root = three
    (tmp_path / "root.pem").write_bytes(to_pem([root]))
    (tmp_path / "issuing.pem").write_bytes(to_pem([issuing]))
    # the chain builds (the intermediate given with --chain), but the file lacks it
    result = _verify_file(tmp_path, [leaf, mid], "--ca", tmp_path / "root.pem", "--chain",
                          tmp_path / "issuing.pem", code=3)
    assert ("FAIL missing-intermediate: the file lacks the intermediate CN=Up Issuing: Salesforce needs the "
            "client certificate followed by every intermediate") in result.stdout.splitlines()
    # without it anywhere, the chain does not build
    result = _verify_file(tmp_path, [leaf, mid], "--ca", tmp_path / "root.pem", code=3)
    assert ("FAIL missing-intermediate: no certificate for CN=Up Issuing, the issuer of CN=deep-client; "
            "add it with --chain") in result.stdout.splitlines()


def test_verify_upload_with_root_warns(three, tmp_path):
    result = _verify_file(tmp_path, list(three), code=0)
    assert ("WARN upload-holds-root: the file holds the root CN=Up Root: Salesforce calls the root optional "
            "and generally not included (ktpy export-pem --with-chain leaves it out)"
            ) in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1] == "OK: every check holds"


def _dual_auth_leaf(ca):
    """A leaf with clientAuth and serverAuth, which ktpy itself never issues."""
    leaf_key = generate_key(EC)
    extensions = [(ext, crit) for ext, crit in issue.leaf_extensions(leaf_key.public_key(), issue.Profile.CLIENT, ())
                  if not isinstance(ext, x509.ExtendedKeyUsage)]
    extensions.append((x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       False))
    return issue.sign(subject=x509.Name.from_rfc4514_string("CN=dual"), public_key=leaf_key.public_key(),
                      issuer_name=ca.cert.subject, issuer_key=ca.key, issuer_cert=ca.cert, days=30, now=NOW,
                      extensions=extensions)


def test_verify_server_and_client_auth_fails_from_a_public_ca(cas):
    issuing = cas["three-level"]
    leaf = _dual_auth_leaf(issuing)
    root = cas["root"].root
    upload = [leaf, *issuing.chain[:-1]]
    # the root stands in for a public one: it is in the trust bundle given
    public = verify(leaf, intermediates=upload[1:], roots=[root], profile="salesforce-mtls", now=NOW,
                    trusted_public=[root], upload=upload)
    assert [(f.check, f.message, f.warning) for f in public.findings] == [
        ("server-and-client-auth", "CN=dual has serverAuth as well as clientAuth, from a public CA: since June "
         "2026 public CAs no longer issue such certificates; ask the CA for a clientAuth-only certificate", False)]
    assert not public.ok
    private = verify(leaf, intermediates=upload[1:], roots=[root], profile="salesforce-mtls", now=NOW,
                     trusted_public=[], upload=upload)
    assert [f.check for f in private.findings] == ["server-and-client-auth", "private-root"]
    assert private.ok


def test_verify_upload_from_a_public_ca_needs_no_root_given(three):
    """The upload file leaves the root out; a public root is found in the trust bundle."""
    leaf, issuing, mid, root = three
    report = verify(leaf, intermediates=[issuing, mid], profile="salesforce-mtls", now=NOW,
                    trusted_public=[root], upload=[leaf, issuing, mid])
    assert report.findings == () and report.chain == (leaf, issuing, mid, root)
    # a private root is not found there: the chain stops, as before, and --ca is the way
    private = verify(leaf, intermediates=[issuing, mid], profile="salesforce-mtls", now=NOW,
                     trusted_public=[], upload=[leaf, issuing, mid])
    assert [(f.check, f.message) for f in private.findings] == [
        ("missing-intermediate", "no certificate for CN=Up Root, the issuer of CN=Up Mid; add it with --chain")]


def test_verify_server_and_client_auth_warns_from_a_private_ca(cas, tmp_path):
    issuing = cas["three-level"]
    leaf = _dual_auth_leaf(issuing)
    (tmp_path / "root.pem").write_bytes(to_pem([cas["root"].root]))
    result = _verify_file(tmp_path, [leaf, *issuing.chain[:-1]], "--ca", tmp_path / "root.pem", code=0)
    assert ("WARN server-and-client-auth: CN=dual has serverAuth as well as clientAuth: public CAs no longer "
            "issue such certificates since June 2026; issue client certificates with clientAuth only (ktpy "
            "issue-client does)") in result.stdout.splitlines()
