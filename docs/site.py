"""Build the user guide into one site with the API reference: `make docs` runs pdoc for the API
(build/docs/api/) and then this, which renders README.md as the front page and every docs/*.md
as a page, with pdoc's own Markdown renderer, into build/docs/.

Why pdoc and not mkdocs-material + mkdocstrings: pdoc already writes the API reference from the
docstrings, builds offline in about a second and is one dev dependency; the guide is plain
Markdown pages that pdoc's renderer (markdown2, the one its docstrings use) turns into HTML just
as well. A second documentation stack would add a dozen build dependencies for the same pages.

Every docs/*.md is picked up: the pages in GUIDE and FORMATS come first in that order, any other
page under "More" (so a page added without a nav entry still ships). The build fails, naming the
file, on a page without a `# Title` line or a link to a .md file that does not exist.

    python docs/site.py OUT_DIR      (after pdoc wrote OUT_DIR/api/)
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

from pdoc.render_helpers import to_html

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The user guide, one page per task, in reading order.
GUIDE = ["keystores.md", "chains-and-cas.md", "hsm.md", "mule.md", "salesforce-upload.md", "salesforce.md",
         "server-trust.md", "over-time.md", "bad-input.md", "library.md"]
# The formats ktpy reads and writes (keystores, and what it writes for other programs).
FORMATS = ["formats.md", "inspect-json.md", "expiry-json.md", "ledger.md"]

_LINK = re.compile(r"\]\(([^)#\s]+\.md)(#[^)\s]*)?\)")
_STYLE = """body{font-family:system-ui,sans-serif;max-width:62rem;margin:0 auto;padding:0 1rem;line-height:1.5}
nav{border-bottom:1px solid #ccc;padding:.5rem 0;margin-bottom:1rem}nav a{margin-right:.8rem}
pre{background:#f5f5f5;padding:.6rem;overflow-x:auto}code{font-size:.92em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .4rem;vertical-align:top}"""


class SiteError(Exception):
    """A page the site cannot be built from, named."""


def title_of(path: Path, text: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip().replace("`", "")
    raise SiteError(f"{path.relative_to(ROOT)} has no '# Title' line: every guide page starts with one")


def pages() -> list[Path]:
    """Every docs/*.md: GUIDE and FORMATS first in their order, the others after, by name."""
    found = {p.name: p for p in sorted(DOCS.glob("*.md"))}
    missing = [n for n in [*GUIDE, *FORMATS] if n not in found]
    if missing:
        raise SiteError(f"docs/site.py lists {', '.join(missing)}, which docs/ does not have")
    return [found[n] for n in [*GUIDE, *FORMATS]] + [p for n, p in found.items() if n not in [*GUIDE, *FORMATS]]


def rewrite_links(path: Path, text: str, names: set[str]) -> str:
    """Links to .md pages become links to their .html pages; a link to a page that does not
    exist fails the build."""

    def replace(match: re.Match[str]) -> str:
        target, anchor = match.group(1), match.group(2) or ""
        name = target.split("/")[-1]
        if target.startswith(("http://", "https://")):
            return match.group(0)
        if name == "README.md" and target in ("../README.md", "README.md") and path.name != "README.md":
            return f"](index.html{anchor})"
        if name not in names:
            raise SiteError(f"{path.relative_to(ROOT)} links to {target}, which is not a page of docs/")
        return f"]({name[:-3]}.html{anchor})"

    return _LINK.sub(replace, text)


def render(title: str, body_md: str, nav: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)} - ktpy</title>"
            f"<style>{_STYLE}</style></head><body><nav>{nav}</nav>{to_html(body_md)}</body></html>\n")


def build(out: Path) -> list[Path]:
    listed = pages()
    names = {p.name for p in listed}
    titles = {p.name: title_of(p, p.read_text(encoding="utf-8")) for p in listed}
    nav = " ".join(['<a href="index.html">ktpy</a>']
                   + [f'<a href="{n[:-3]}.html">{html.escape(titles[n])}</a>' for n in GUIDE]
                   + ['<a href="api/keytool_py.html">API reference</a>'])
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in listed:
        text = rewrite_links(path, path.read_text(encoding="utf-8"), names)
        target = out / f"{path.stem}.html"
        target.write_text(render(titles[path.name], text, nav), encoding="utf-8")
        written.append(target)
    readme = ROOT / "README.md"
    front = rewrite_links(readme, readme.read_text(encoding="utf-8"), names)
    front += "\n\n## All pages\n\n" + "\n".join(f"- [{titles[p.name]}]({p.stem}.html)" for p in listed)
    front += "\n- [API reference](api/keytool_py.html): the names of `keytool_py.__all__`\n"
    (out / "index.html").write_text(render("ktpy", front, nav), encoding="utf-8")
    written.append(out / "index.html")
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "build" / "docs"
    try:
        written = build(out)
    except SiteError as exc:
        print(f"docs: {exc}", file=sys.stderr)
        return 1
    print(f"User guide: {len(written)} pages in {out}/ (index.html), API reference in {out}/api/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
