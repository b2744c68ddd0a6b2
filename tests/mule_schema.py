"""Mule's schemas as the tests read them: {element: attribute names} from the fixture excerpts of
mule-tls.xsd and the secure-properties module's XSD, the Salesforce connector's JWT connection
names, and the names a document uses per namespace."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from keytool_py.mule import SALESFORCE_NS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
XSD = "{http://www.w3.org/2001/XMLSchema}"


def tls_schema(name: str = "mule-tls-schema.xsd-excerpt") -> dict[str, set[str]]:
    """{element name: its attribute names} from the fixture excerpt of mule-tls.xsd (or another
    schema excerpt)."""
    root = ET.parse(FIXTURES / name).getroot()
    types = {}
    for complex_type in root.findall(f"{XSD}complexType"):
        types[complex_type.get("name")] = {a.get("name") for a in complex_type.iter(f"{XSD}attribute")}
    return {e.get("name"): types[e.get("type")] for e in root.findall(f"{XSD}element")}


def salesforce_names() -> dict[str, set[str]]:
    data = json.loads((FIXTURES / "mule-salesforce-jwt-connection.json").read_text())
    assert data["namespace"] == SALESFORCE_NS
    return {name: set(attrs) for name, attrs in data["elements"].items()}


def names_used(xml: str, namespace: str) -> dict[str, set[str]]:
    """{element local name: attribute names} for the elements of one namespace in a document."""
    used: dict[str, set[str]] = {}
    for element in ET.fromstring(xml).iter():
        if element.tag.startswith("{" + namespace + "}"):
            used.setdefault(element.tag.split("}", 1)[1], set()).update(element.attrib)
    return used


def secure_schema() -> dict[str, set[str]]:
    return tls_schema("mule-secure-properties-schema.xsd-excerpt")
