"""The Salesforce half as code: salesforce-app, and the options `kit --salesforce-app` adds."""

from __future__ import annotations

from pathlib import Path

import click

from .app import EXIT_CODES, cli, note
from .inputs import read_certificates
from .options import DEFAULT_APP_NAME as DEFAULT_NAME
from .options import force_option

DEFAULT_SCOPES = "api,refresh_token"


def _scopes(ctx, param, value):
    from ..errors import BadInputError
    from ..salesforce_app import parse_scopes

    try:
        return parse_scopes(value)
    except BadInputError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command("salesforce-app", epilog=EXIT_CODES)
@click.option("--cert", "cert_path", required=True, type=click.Path(dir_okay=False),
              help="The client certificate (PEM or DER; of a chain, the leaf is taken). RSA: RS256.")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Folder for the SFDX project.")
@click.option("--name", default=DEFAULT_NAME, show_default=True,
              help="The app's API name (letters, digits, single underscores).")
@click.option("--label", help="The app's label in Setup (default: the name with spaces).")
@click.option("--contact-email", metavar="ADDR", help="The app's contact email (required with --connected-app).")
@click.option("--permission-set", metavar="NAME",
              help="API name of the permission set the app is pre-authorised for (default: NAME_Users).")
@click.option("--scopes", default=DEFAULT_SCOPES, show_default=True, callback=_scopes,
              help="OAuth scopes, comma-separated (api, refresh_token, ... or Api, RefreshToken, ...).")
@click.option("--callback-url", metavar="URL", help="OAuth callback URL (unused by the JWT bearer flow; "
              "default: https://login.salesforce.com/services/oauth2/success).")
@click.option("--connected-app", is_flag=True,
              help="Write a legacy Connected App instead of an External Client App (only for orgs where "
                   "Salesforce Support re-enabled creating them).")
@force_option
def salesforce_app_cmd(cert_path, out_dir, name, label, contact_email, permission_set, scopes, callback_url,
                       connected_app, force):
    """Write the Salesforce side of the JWT bearer flow as an SFDX project that the sf CLI deploys:
    an External Client App holding the certificate (JWT bearer enabled), pre-authorised for a
    permission set the project also defines, with the OAuth scopes the Salesforce connector needs.

    \b
    Writes into OUT:
      sfdx-project.json, manifest/package.xml
      force-app/main/default/...   the app's metadata and the permission set (sf source format)
      .gitignore, .forceignore     the files that hold the consumer key and secret once retrieved
                                   from the org are git-ignored; ktpy never writes either
      README.txt                   the deploy command and the steps that stay manual (Setup paths)

    Deploy: sf project deploy start --source-dir OUT/force-app --target-org ORG

    \b
    EXAMPLES
      ktpy salesforce-app --cert kit/client.pem --out-dir sfdx --contact-email ops@acme.com
      ktpy salesforce-app --cert kit/client.pem --out-dir sfdx --name Billing_Mule \\
          --permission-set Billing_Integration --scopes api,refresh_token
      ktpy verify kit/keystore.jks --storepass env:STOREPASS --profile salesforce-jwt --app sfdx
    """
    from .. import files
    from ..salesforce_app import build_project
    from ..upload import find_leaf

    spec = _spec(name, label, contact_email, permission_set, scopes, callback_url, connected_app)
    leaf = find_leaf(read_certificates(cert_path, what="certificate file"))
    project = build_project(leaf, spec)
    folder = Path(out_dir)
    outputs = [files.Output(folder / f.name, f.data) for f in project]
    files.write_all(outputs, force=force)
    _summary(folder, spec, leaf)


def _spec(name, label, contact_email, permission_set, scopes, callback_url, connected_app):
    from ..salesforce_app import DEFAULT_CALLBACK, AppSpec

    return AppSpec(name=name, label=label, contact_email=contact_email, permission_set=permission_set,
                   scopes=tuple(scopes), callback_url=callback_url or DEFAULT_CALLBACK,
                   connected_app=connected_app)


def _summary(folder: Path, spec, leaf) -> None:
    kind = "Connected App" if spec.connected_app else "External Client App"
    note(f"Wrote the SFDX project to {folder}/: {kind} {spec.name} with the certificate of "
         f"{leaf.subject.rfc4514_string()} (valid until {leaf.not_valid_after_utc:%Y-%m-%d}), "
         f"pre-authorised for permission set {spec.permission_set_name}")
    note(f"  deploy: sf project deploy start --source-dir {folder / 'force-app'} --target-org ORG")
    note(f"  then the manual steps in {folder / 'README.txt'} (mutual TLS certificate, permission, consumer key)")
