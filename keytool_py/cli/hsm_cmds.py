"""create-ca --pkcs11: a CA whose key is made (or found) in a PKCS#11 token (hsm.py does the work)."""

from __future__ import annotations

from pathlib import Path

from .app import note
from .inputs import load_ca_dir, record_issued, token_pin


def create_ca_in_token(folder: Path, subject_name, uri_text: str, module: str | None, existing: bool, key_type,
                       days: int, parent: str | None, parent_password: str | None, force: bool) -> None:
    """Make or find the key in the token, certify it (self-signed, or by --parent) and write
    ca.pem beside ca.pkcs11. Nothing is written when any step fails; a key made in the token
    before a later failure stays there (say so: rerun with --existing-key)."""
    from .. import ca as ca_mod
    from .. import files, hsm, p11uri

    uri = p11uri.parse(uri_text, what="--pkcs11")
    parent_ca = load_ca_dir(parent, parent_password, "--parent-password") if parent else None
    if existing:
        key = hsm.open_key(uri, token_pin, module=module)
    else:
        key = hsm.generate_key(uri, token_pin, key_type, module=module)
    if module is not None and uri.module_path is None:  # later commands find the module without the option
        key = hsm.with_module(key, module)
    new_ca = ca_mod.create_ca(subject_name, key_type=key_type, days=days, parent=parent_ca, key=key)
    if parent_ca is not None:
        record_issued(parent, [new_ca.cert], by="create-ca --parent")
    contents = new_ca.files(None)
    files.write_all([files.Output(folder / name, data) for name, data in contents.items()], force=force)
    flags = key.token_flags()
    kind = "root CA" if parent_ca is None else "intermediate CA"
    note(f"Created {kind} {new_ca.cert.subject.rfc4514_string()}, "
         f"valid until {new_ca.cert.not_valid_after_utc:%Y-%m-%d}")
    note(f"  {folder / ca_mod.CERT_FILE}  certificate (not secret)")
    state = ", ".join(f"{'' if flags[name] else 'not '}{name.replace('_', '-')}"
                      for name in ("sensitive", "extractable"))
    note(f"  {folder / ca_mod.TOKEN_FILE}  names the key {'found' if existing else 'made'} in token "
         f"{key.pkcs11_uri.token!r} ({state}): {key.pkcs11_uri}")
    if ca_mod.CHAIN_FILE in contents:
        note(f"  {folder / ca_mod.CHAIN_FILE}  this CA, then its issuers")
