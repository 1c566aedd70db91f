"""Incremental crawling: do not analyse again what has not changed.

A page is analysed again only when its content or what it is analysed against
changed. The second part is the *fingerprint*: a hash of the identities
watched on the site, the rule files and doxwatch's version. Add a phone number
or a rule and every page is read again on the next crawl; change nothing and a
page with the same bytes (or a 304 Not Modified) is recorded as unchanged.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from sqlalchemy import bindparam, func, select

from scanner import __version__
from scanner.config import Settings, Site
from scanner.storage import PageRow, Store
from scanner.urls import canonical_url
from spiders.items import KnownPage

_BUILTIN_RULES = Path(__file__).resolve().parent.parent / "rules" / "builtin"


def fingerprint(settings: Settings, site: Site) -> str:
    """What a page's analysis depends on besides the page itself."""
    digest = hashlib.sha256(__version__.encode())
    people = [asdict(p.identity()) for p in settings.people_for(site)]
    digest.update(json.dumps(people, sort_keys=True, ensure_ascii=False).encode())
    for folder in (_BUILTIN_RULES, *settings.rule_dirs):
        for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else ():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class LastFetch:
    """What the latest stored fetch of a page says: enough to tell whether the page changed since."""

    sha256: str
    fingerprint: str | None
    content_type: str
    etag: str | None
    last_modified: str | None


_LAST_FETCH = (
    select(*(getattr(PageRow, f.name) for f in fields(LastFetch)))
    .where(PageRow.canonical_url == bindparam("canonical_url"))
    .order_by(PageRow.id.desc())
    .limit(1)
)


def last_page(store: Store, url: str) -> LastFetch | None:
    """The latest fetch of the page at ``url`` (any crawl, any site); asked once a page, so only its columns."""
    with store.engine.connect() as conn:
        row = conn.execute(_LAST_FETCH, {"canonical_url": canonical_url(url)}).first()
    return None if row is None else LastFetch(*row)


def known_pages(store: Store, site_id: str, current: str) -> dict[str, KnownPage]:
    """Validators and links of the site's pages whose last fetch was analysed with ``current``.

    Only those may be asked for conditionally: after a 304 nothing is analysed,
    which is right only if nothing the analysis depends on changed.
    """
    latest = (
        select(func.max(PageRow.id))
        .where(PageRow.site == site_id)
        .group_by(PageRow.canonical_url)
    )
    query = select(PageRow).where(PageRow.id.in_(latest), PageRow.fingerprint == current)
    known: dict[str, KnownPage] = {}
    with store.session() as s:
        for row in s.scalars(query):
            if row.etag or row.last_modified:
                links = tuple(u for u in row.links.split("\n") if u)
                known[row.canonical_url] = KnownPage(etag=row.etag, last_modified=row.last_modified, links=links)
    return known


def mark_analysed(store: Store, page_id: int, current: str) -> None:
    """Set once the page's findings are stored: a crash before leaves it to be analysed again."""
    with store.session() as s, s.begin():
        row = s.get(PageRow, page_id)
        if row is not None:
            row.fingerprint = current
