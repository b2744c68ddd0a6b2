"""The docs site (docs/site.py, run by `make docs`) picks up every docs/*.md page, and refuses a
page without a title or a link to a page that does not exist, naming the file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parent.parent / "docs" / "site.py"


def _site(monkeypatch, docs: Path):
    spec = importlib.util.spec_from_file_location("docs_site", SITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DOCS", docs)
    monkeypatch.setattr(module, "ROOT", docs.parent)
    return module


def _tree(tmp_path: Path, module) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (tmp_path / "README.md").write_text("# ktpy\n\nSee [the guide](docs/keystores.md).\n")
    for name in [*module.GUIDE, *module.FORMATS]:
        (docs / name).write_text(f"# {name}\n\nText.\n")
    return docs


def test_every_page_is_built_with_the_real_docs(tmp_path):
    spec = importlib.util.spec_from_file_location("docs_site", SITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.build(tmp_path / "site")
    pages = {p.name for p in written}
    assert {f"{p.stem}.html" for p in (SITE.parent).glob("*.md")} | {"index.html"} == pages


def test_a_page_without_a_nav_entry_is_still_built(monkeypatch, tmp_path):
    module = _site(monkeypatch, tmp_path / "docs")
    docs = _tree(tmp_path, module)
    (docs / "hsm.md").write_text("# Keys in an HSM\n\nSee [keystores](keystores.md).\n")
    written = {p.name for p in module.build(tmp_path / "site")}
    assert "hsm.html" in written
    assert 'href="keystores.html"' in (tmp_path / "site" / "hsm.html").read_text()
    assert "Keys in an HSM" in (tmp_path / "site" / "index.html").read_text()


def test_a_broken_link_or_a_missing_title_fails_naming_the_file(monkeypatch, tmp_path):
    module = _site(monkeypatch, tmp_path / "docs")
    docs = _tree(tmp_path, module)
    (docs / "mule.md").write_text("# Mule\n\nSee [gone](nowhere.md).\n")
    with pytest.raises(module.SiteError, match=r"^docs/mule.md links to nowhere.md, which is not a page of docs/$"):
        module.build(tmp_path / "site")
    (docs / "mule.md").write_text("No title here.\n")
    with pytest.raises(module.SiteError, match=r"^docs/mule.md has no '# Title' line"):
        module.build(tmp_path / "site")
