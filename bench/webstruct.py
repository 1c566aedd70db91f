"""Load the hand-labelled webstruct pages from ``../shared/eval/webstruct`` (see its README).

Each page is HTML with WebAnnotator ``<span wa-type=...>`` labels. :func:`load_pages`
unwraps the spans (their text stays, as the site served it) and returns each page's
extracted text with its labels, grouped the way WebAnnotator numbered them.
The folder is read in place, never copied into the project.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

from rules.model import PageText
from rules.text import decode_body, extract_page

DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
FOLDERS = ("us_contact_pages", "random_pages")


@dataclass(frozen=True)
class Label:
    type: str  # PER, TEL, FAX, EMAIL, STREET, CITY, STATE, ZIPCODE, COUNTRY, ORG, ...
    text: str
    order: int  # position among the page's labels, for grouping address parts


@dataclass(frozen=True)
class Page:
    id: str  # "us_contact_pages/12"
    page: PageText
    labels: tuple[Label, ...]
    html: str = field(default="", repr=False)  # the page as served, labels unwrapped: what extract_page read

    def of(self, *types: str) -> list[Label]:
        return [label for label in self.labels if label.type in types]


def page_files(eval_dir: Path = DEFAULT_EVAL_DIR) -> list[Path]:
    root = eval_dir / "webstruct"
    if not root.is_dir():
        raise FileNotFoundError(f"{root} not found; pass --eval-dir pointing at the shared eval folder")
    files = [f for folder in FOLDERS for f in (root / folder).glob("*.html")]
    return sorted(files, key=lambda f: (f.parent.name, int(re.sub(r"\D", "", f.stem) or 0)))


def load_pages(eval_dir: Path = DEFAULT_EVAL_DIR) -> list[Page]:
    return [load_page(path) for path in page_files(eval_dir)]


def load_page(path: Path) -> Page:
    html = decode_body(path.read_bytes(), "text/html")
    root = lxml.html.document_fromstring(html)
    labels: dict[tuple[str, str], list[str]] = {}
    for span in root.xpath("//span[@wa-type]"):
        labels.setdefault((span.get("wa-id") or str(len(labels)), span.get("wa-type")), []).append(span.text_content())
    for span in root.xpath("//span[@wa-type]"):
        span.drop_tag()
    page_id = f"{path.parent.name}/{path.stem}"
    url = f"https://webstruct.example/{page_id}.html"
    html = lxml.html.tostring(root, encoding="unicode")
    page = extract_page(html, url)
    found = tuple(
        Label(kind, " ".join(" ".join(parts).split()), order) for order, ((_, kind), parts) in enumerate(labels.items())
    )
    return Page(page_id, page, tuple(label for label in found if label.text), html)


def iter_texts(eval_dir: Path = DEFAULT_EVAL_DIR) -> Iterator[PageText]:
    for page in load_pages(eval_dir):
        yield page.page
