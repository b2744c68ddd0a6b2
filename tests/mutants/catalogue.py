"""Planted faults the suite must catch (`make mutants`, tests/mutants/run.py).

Each mutant is one small replacement in one module: `old` (which must occur exactly once) becomes
`new`. `path` says where the snippet lives today; if code moved, the runner looks for the snippet
in every module of keytool_py/ and says where it found it, and fails loudly ("no longer applies")
when it is nowhere or in several places: re-target the snippet then. `tests` are the pytest node
ids (modules or tests) that must fail with the fault planted; `env` is added to their
environment. Kept fast: each names the cheapest tests that judge the fault, with an outside judge
(Java, keytool, OpenSSL, nginx, PyJWT, a published vector) wherever the fault is about what
another program sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mutant:
    name: str
    fault: str  # what the planted fault does, in words
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    slow: bool = False  # its tests take a minute or more: started first, so the others fill the wait


CONVERT_BUILD = ("    result = keystore.build_store(dest_type, store.entries, storepass=dest_pw.value,\n")

MUTANTS = [
    # --- the readers ---
    Mutant("keystore-reader-refuses-everything", "every keystore reader refuses every input",
           "keytool_py/keystore/__init__.py",
           "    store_type = detected\n",
           "    store_type = None\n",
           ("tests/test_fuzz.py::test_mutated_inputs_raise_only_ktpy_errors",)),
    Mutant("certificate-reader-refuses-everything", "the certificate reader refuses every input",
           "keytool_py/certs.py",
           "def load_certificates(data: bytes, *, what: str = \"the input\") -> list[x509.Certificate]:\n",
           "def load_certificates(data: bytes, *, what: str = \"the input\") -> list[x509.Certificate]:\n"
           "    raise BadInputError(f\"{what} is neither a PEM nor a DER certificate\")\n",
           ("tests/test_fuzz.py::test_mutated_inputs_raise_only_ktpy_errors",)),
    Mutant("jks-reader-keeps-the-first-duplicate", "a JKS/JCEKS reader keeps the first of two entries "
           "under one alias (Java keeps the last)",
           "keytool_py/keystore/java_container.py",
           "        table.pop(alias, None)  # Java keeps the last entry under an alias\n        table[alias] = entry\n",
           "        table.setdefault(alias, entry)\n",
           ("tests/test_java_view.py::test_ktpy_sees_what_java_sees",), slow=True),
    Mutant("jks-reader-skips-the-integrity-hash", "a JKS/JCEKS opens with any store password",
           "keytool_py/keystore/java_container.py",
           "    hash_ok = storepass is None or hmac.compare_digest(_integrity(storepass, data[:-20]), data[-20:])\n",
           "    hash_ok = True\n",
           ("tests/test_keystore.py",)),
    # --- writers and convert ---
    Mutant("pkcs12-trusted-without-oracle-attribute", "PKCS12 trusted certificates lack Oracle's "
           "attribute, so Java does not see them",
           "keytool_py/keystore/pkcs12.py",
           "friendly_name=entry.alias,\n                                 trusted=True))\n",
           "friendly_name=entry.alias,\n                                 trusted=False))\n",
           ("tests/test_edit_interop.py::test_keytool_lists_exactly_what_each_edit_should_leave",)),
    Mutant("convert-refuses-jks-to-pkcs12", "convert refuses every JKS -> PKCS12 conversion, in one "
           "sentence naming an entry",
           "keytool_py/cli/store_cmds.py", CONVERT_BUILD,
           "    if store.type.value == \"jks\" and dest_type == \"pkcs12\":\n"
           "        raise KtpyError(f\"the entry {store.entries[0].alias!r} cannot be converted to PKCS12\")\n"
           + CONVERT_BUILD,
           ("tests/test_java_view.py::test_convert_does_what_is_pinned",), slow=True),
    Mutant("convert-drops-the-last-trusted-entry", "convert leaves out the last trusted certificate entry "
           "(judged by keytool with JAVA_TOOL_OPTIONS asking for German)",
           "keytool_py/cli/store_cmds.py", CONVERT_BUILD,
           "    trusted = [i for i, e in enumerate(store.entries) if e.kind.name == \"TRUSTED_CERT\"]\n"
           "    store = store.__class__(store.type, tuple(e for i, e in enumerate(store.entries)"
           " if i != max(trusted, default=-1)))\n" + CONVERT_BUILD,
           ("tests/test_interop_chains.py::test_convert_keeps_aliases_and_fingerprints",),
           env={"JAVA_TOOL_OPTIONS": "-Duser.language=de -Duser.country=DE"}),
    # --- the edits ---
    Mutant("delete-removes-the-first-entry", "delete removes the first entry, whichever was named",
           "keytool_py/edit.py",
           "    remaining = tuple(e for e in store.entries if e is not entry)\n",
           "    remaining = tuple(e for e in store.entries if e is not store.entries[0])\n",
           ("tests/test_edit_interop.py::test_keytool_lists_exactly_what_each_edit_should_leave",)),
    Mutant("rename-copies", "rename adds the new alias and keeps the old one",
           "keytool_py/edit.py",
           "    return _swap(store, entry, replace(entry, alias=new_alias))\n",
           "    return replace(store, entries=store.entries + (replace(entry, alias=new_alias),))\n",
           ("tests/test_edit_interop.py::test_keytool_lists_exactly_what_each_edit_should_leave",)),
    # --- verify ---
    Mutant("verify-misses-expiry", "verify finds no expired certificate",
           "keytool_py/verify.py",
           "        if cert.not_valid_after_utc < now:\n",
           "        if cert.not_valid_after_utc < now - dt.timedelta(days=36500):\n",
           ("tests/test_verify.py", "tests/test_verify_openssl.py")),
    Mutant("verify-accepts-a-server-certificate", "verify does not ask for the clientAuth usage",
           "keytool_py/verify.py",
           "    if not has_client_auth:\n",
           "    if not has_client_auth and False:\n",
           ("tests/test_verify.py",)),
    # --- the PEM uploaded to Salesforce ---
    Mutant("upload-keeps-the-root", "the upload PEM keeps the root",
           "keytool_py/upload.py",
           "    return chain if with_root or not has_root else chain[:-1]\n",
           "    return chain\n",
           ("tests/test_upload_chain.py",)),
    Mutant("upload-drops-intermediates", "the upload PEM holds the leaf only",
           "keytool_py/upload.py",
           "    return chain if with_root or not has_root else chain[:-1]\n",
           "    return chain if with_root or not has_root else chain[:1]\n",
           ("tests/test_upload_chain.py",)),
    # --- secure properties ---
    Mutant("secure-properties-zero-iv", "fixed IVs are zero bytes instead of the key's first block",
           "keytool_py/secure_properties.py",
           "    return raw[:block].ljust(block, b\"\\0\")\n",
           "    return bytes(block)\n",
           ("tests/test_secure_properties.py::test_published_vectors",)),
    # --- the probe's verdict ---
    Mutant("probe-takes-a-certificate-error-for-acceptance", "probe reads nginx's 400 'The SSL certificate "
           "error' as ACCEPTED",
           "keytool_py/probe.py",
           "    if code in CERTIFICATE_STATUSES or (code in (400, 401, 403) and words):\n",
           "    if code in CERTIFICATE_STATUSES:\n",
           ("tests/test_probe.py::test_judge_answer", "tests/test_probe.py::test_probe_against_nginx")),
    Mutant("probe-takes-silence-for-acceptance", "probe calls a server that never answers ACCEPTED",
           "keytool_py/probe.py",
           "\"it did not say whether it accepts the client certificate\", verdict=NO_VERDICT)\n",
           "\"it did not say whether it accepts the client certificate\", verdict=ACCEPTED)\n",
           ("tests/test_probe.py::test_probe_no_verdict_from_a_server_that_stays_silent",)),
    Mutant("pkcs12-empty-password-one-way", "the empty PKCS12 password is tried only as the BMP terminator "
           "(Java also tries it as no bytes: RetryWithZero)",
           "keytool_py/keystore/p12codec.py",
           "    for attempt in ([password, \"\\0\"] if password == \"\" else [password]):\n",
           "    for attempt in [password]:\n",
           ("tests/test_java_view_round_two.py::test_the_corpus_holds_both_conventions_and_ktpy_reads_each",)),
    Mutant("bks-uber-taken-for-bks", "a UBER keystore is read as BKS",
           "keytool_py/keystore/uber.py",
           "    return bks.load(data, StoreType.UBER, storepass, keypass, only=only, secret_pass=secret_pass)\n",
           "    return bks.load(data, StoreType.BKS, storepass, keypass, only=only, secret_pass=secret_pass)\n",
           ("tests/test_bks.py::test_keys_and_secrets_open_with_the_store_password",)),
    Mutant("bks-aliases-as-standard-utf8", "BKS/UBER aliases decoded as standard UTF-8 (Bouncy Castle writes "
           "Java's modified UTF-8)",
           "keytool_py/keystore/bks.py",
           "                return decode_modified_utf8(raw), pos + 2 + size\n",
           "                return raw.decode(\"utf-8\"), pos + 2 + size\n",
           ("tests/test_bks.py::test_keys_and_secrets_open_with_the_store_password",)),
    # --- deployed: locks, links, escaping, renewal ---
    Mutant("edit-without-lock", "edits take no lock: racing imports fail or lose a change",
           "keytool_py/opener.py",  # where an edit takes the store's lock (opener.editing)
           "    lock = files.locked(path, wait=wait) if Path(path).is_file() else contextlib.nullcontext()\n",
           "    lock = contextlib.nullcontext()\n",
           ("tests/test_concurrency.py::test_racing_imports_with_wait_all_succeed_and_every_entry_stays",)),
    Mutant("edit-replaces-the-symlink", "an edit through a symlink replaces the link with a file",
           "keytool_py/files.py",
           "    path = Path(os.path.realpath(link))\n",
           "    path = Path(link)\n",
           ("tests/test_deployed_files.py::test_an_edit_through_a_symlink_replaces_the_target_and_keeps_the_link",)),
    Mutant("passwordless-truststore-gains-a-mac", "an edit protects a password-less PKCS12 truststore, so "
           "keytool lists nothing without a password",
           "keytool_py/cli/edit_cmds.py",
           "    return compat_of(snapshot.data), edit.pkcs12_protected(snapshot.data)\n",
           "    return compat_of(snapshot.data), True\n",
           ("tests/test_deployed_files.py::test_a_passwordless_keytool_truststore_stays_passwordless",)),
    Mutant("names-printed-raw", "control characters and non-UTF-8 bytes of names reach the output",
           "keytool_py/escaping.py",
           "    return _UNSAFE.sub(_visible, text)\n",
           "    return text\n",
           ("tests/test_escaped_output.py::test_prometheus_output_parses_with_prometheus_client",)),
    Mutant("renew-leaves-a-killed-renewal", "a renewal killed half-way is not undone by the next one",
           "keytool_py/cli/lifecycle_cmds.py",
           "        complete, removed = journal.recover()",
           "        complete, removed = [], []",
           ("tests/test_renew_safety.py::test_a_renewal_killed_half_way_is_undone_by_the_next_one",)),
]
