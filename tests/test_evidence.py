"""Evidence: kept once, exported as a package, verified, and read in a browser with no network.

The evidence is made as a crawl makes it (PageAnalyser, then the screenshot
phase in a real headless Chromium) from a page of the local site, without the
crawl child: tests/test_crawling.py covers the crawl itself. One Chromium
renders every report.
"""
from __future__ import annotations

import gzip
import os
import stat
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.config import Settings, load_settings
from scanner.crawl_child import PageAnalyser, take_screenshots
from scanner.evidence import EvidenceLocker
from scanner.evidence_export import EvidenceError, export, verify
from scanner.storage import open_store
from spiders.items import PageItem
from tests.mockserver import MockServer

CHROMIUM = os.environ.get("DOXWATCH_CHROMIUM", "/usr/bin/chromium")
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>that council woman</title></head><body>
<h1>that council woman again</h1>
<p>Kate Isaacs lives at 1723 N Halsted St, Chicago IL 60614. Her number is (312) 555-0123. You know what to do.</p>
</body></html>"""


@dataclass
class Kept:
    settings: Settings
    config: Path
    finding_id: int
    folder: Path


@pytest.fixture(scope="module")
def kept(mockserver: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Kept:
    folder = tmp_path_factory.mktemp("evidence")
    mockserver.dynamic["evidence"] = PAGE
    url = mockserver.url("/dynamic/evidence")
    config = folder / "doxwatch.toml"
    config.write_text(
        '[[people]]\nid = "kate"\nnames = ["Kate Isaacs"]\nphones = ["+1 312 555 0123"]\n'
        'addresses = ["1723 N Halsted St, Chicago IL 60614"]\n'
        f'[[sites]]\nid = "forum"\nstart_urls = ["{url}"]\n[storage]\nurl = "sqlite:///{folder / "db.sqlite3"}"\n'
    )
    settings = load_settings(config, environ={"DOXWATCH_CHROMIUM": CHROMIUM})
    analyser = PageAnalyser(settings)
    [finding_id], _ = analyser.handle(_fetch(url))
    assert take_screenshots(settings, settings.sites, analyser) == {}
    return Kept(settings, config, finding_id, folder)


def _fetch(url: str) -> PageItem:
    with urllib.request.urlopen(url, timeout=10) as response:
        return PageItem(site="forum", url=url, status=response.status, content_type="text/html", body=response.read(),
                        fetched_at=datetime.now(timezone.utc), headers=dict(response.headers.items()))


def cli(kept: Kept, *args: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(kept.config), *args])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One offline headless Chromium for every report of this module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def flip_one_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.chmod(0o600)
    path.write_bytes(bytes(data))


# --- keeping ---------------------------------------------------------------------------


def test_evidence_is_kept_once_read_only_and_a_recapture_is_a_new_version(kept: Kept) -> None:
    store = open_store(kept.settings.storage_url)
    locker = EvidenceLocker(store, kept.settings.evidence_dir)
    [version] = locker.versions(kept.finding_id)
    assert version.status == 200 and version.final_url.endswith("/dynamic/evidence")
    assert version.headers["ETag"].startswith('"') and version.fetched_at.tzinfo is not None
    body = gzip.decompress(locker.read(version.body_file))
    assert body == PAGE.encode() and version.body_sha256 == __import__("hashlib").sha256(body).hexdigest()
    for relative in (version.body_file, version.screenshot_file or ""):
        assert stat.S_IMODE(os.stat(locker.path(relative)).st_mode) == 0o400
    assert "headless Chromium" in version.screenshot_note
    # the same page captured again: a second version, the same (content-addressed) response file
    item = _fetch(version.final_url)
    again = locker.capture(item, None, [kept.finding_id])
    locker.add_screenshot(again, b"\x89PNG first", datetime.now(timezone.utc), "test")
    locker.add_screenshot(again, b"\x89PNG second", datetime.now(timezone.utc), "test")  # never replaces the first
    first, second = locker.versions(kept.finding_id)
    assert first.id == version.id and second.id == again and second.body_file == first.body_file
    assert locker.read(second.screenshot_file or "") == b"\x89PNG first"


# --- export and verify -----------------------------------------------------------------


def test_exported_folder_verifies_and_one_changed_byte_is_caught(kept: Kept, tmp_path: Path) -> None:
    out = tmp_path / "finding"
    done = cli(kept, "evidence", "export", str(kept.finding_id), "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "manifest SHA-256" in done.output
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names[:3] == ["SHA256SUMS", "evidence/v1-response.gz", "evidence/v1-screenshot.png"]
    assert {"finding.json", "manifest.json", "report.html"} <= set(names)
    ok = cli(kept, "evidence", "verify", str(out))
    assert ok.exit_code == 0 and ok.output.startswith("OK: ") and "files match the manifest" in ok.output

    flip_one_byte(out / "evidence" / "v1-screenshot.png", 200)
    changed = cli(kept, "evidence", "verify", str(out))
    assert changed.exit_code == 1
    assert "CHANGED: evidence/v1-screenshot.png" in changed.output and "FAILED" in changed.output


def test_exported_zip_verifies_and_one_changed_byte_is_caught(kept: Kept, tmp_path: Path) -> None:
    out = tmp_path / "finding.zip"
    assert cli(kept, "evidence", "export", str(kept.finding_id), "--out", str(out)).exit_code == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert verify(out).ok
    with zipfile.ZipFile(out) as archive:
        png = archive.read("evidence/v1-screenshot.png")
    flip_one_byte(out, out.read_bytes().index(png[100:140]) + 10)
    verdict = verify(out)
    assert not verdict.ok and verdict.changed == ["evidence/v1-screenshot.png"]


def test_an_added_or_removed_file_is_caught(kept: Kept, tmp_path: Path) -> None:
    out = tmp_path / "finding"
    export(kept.settings, open_store(kept.settings.storage_url), kept.finding_id, out)
    (out / "evidence" / "v1-response.gz").unlink()
    (out / "note.txt").write_text("added later")
    verdict = verify(out)
    assert (verdict.ok, verdict.missing, verdict.extra) == (False, ["evidence/v1-response.gz"], ["note.txt"])


def test_a_rewritten_manifest_is_caught_with_the_hash_noted_at_export(kept: Kept, tmp_path: Path) -> None:
    import hashlib
    import json as jsonlib

    out = tmp_path / "finding"
    done = export(kept.settings, open_store(kept.settings.storage_url), kept.finding_id, out)
    flip_one_byte(out / "evidence" / "v1-screenshot.png", 200)
    manifest = jsonlib.loads((out / "manifest.json").read_text())
    for entry in manifest["files"]:  # a forger re-hashes the changed file
        entry["sha256"] = hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest()
    (out / "manifest.json").write_text(jsonlib.dumps(manifest, indent=2))
    (out / "SHA256SUMS").write_text("".join(f"{e['sha256']}  {e['path']}\n" for e in sorted(manifest["files"], key=lambda e: e["path"])))
    assert verify(out).ok  # self-consistent again...
    caught = cli(kept, "evidence", "verify", str(out), "--expect", done.manifest_sha256)
    assert caught.exit_code == 1 and "the package was rewritten" in caught.output  # ...but not the package exported


def test_export_never_overwrites_and_names_unknown_findings(kept: Kept, tmp_path: Path) -> None:
    store = open_store(kept.settings.storage_url)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("mine")
    with pytest.raises(EvidenceError, match="already exists"):
        export(kept.settings, store, kept.finding_id, tmp_path / "taken")
    unknown = cli(kept, "evidence", "export", "9999", "--out", str(tmp_path / "nope"))
    assert unknown.exit_code == 1 and "no finding with id 9999" in unknown.output
    not_a_package = cli(kept, "evidence", "verify", str(tmp_path / "taken"))
    assert not_a_package.exit_code == 2 and "not a doxwatch evidence package" in not_a_package.output


# --- the report in a browser without network -------------------------------------------


def render(browser: Any, report: Path) -> tuple[Any, list[str], bytes]:
    context = browser.new_context(offline=True, viewport={"width": 1000, "height": 800})
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(report.as_uri())
    shot = page.screenshot(full_page=True)
    return page, asked, shot


def test_report_reads_right_in_a_browser_with_no_network(kept: Kept, browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "finding"
    export(kept.settings, open_store(kept.settings.storage_url), kept.finding_id, out)
    page, asked, shot = render(browser, out / "report.html")
    assert all(url.startswith("file://") for url in asked)  # nothing from the network
    assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
    text = page.inner_text("body")
    for expected in (
        f"finding {kept.finding_id}", "HIGH", "Kate Isaacs", "1723 N Halsted St", "(312) 555-0123",
        "/dynamic/evidence", "HTTP status\t200", "SHA-256", "sha256sum -c SHA256SUMS", "UTC",
    ):
        assert expected in text, expected
    assert page.inner_text("#explanation").strip()
    manifest = (out / "manifest.json").read_text()
    for digest in [line.split()[0] for line in (out / "SHA256SUMS").read_text().splitlines() if "report.html" not in line]:
        assert digest in text and digest in manifest
    image = page.evaluate("() => { const i = document.querySelector('img.shot'); return [i.complete, i.naturalWidth]; }")
    assert image == [True, 1280]
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    page.context.close()


def test_redacted_report_masks_identifiers_but_keeps_the_page(kept: Kept, browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "finding"
    assert cli(kept, "evidence", "export", str(kept.finding_id), "--out", str(out), "--redact").exit_code == 0
    page, _, _ = render(browser, out / "report.html")
    matches = page.inner_text("#matches")
    assert "555-0123" not in matches and "1723" not in matches
    assert "masked in this report" in page.inner_text("body")
    assert b"555-0123" in gzip.decompress((out / "evidence" / "v1-response.gz").read_bytes())
    page.context.close()


def test_export_refuses_evidence_that_was_altered_where_it_is_kept(kept: Kept, tmp_path: Path) -> None:
    store = open_store(kept.settings.storage_url)
    locker = EvidenceLocker(store, kept.settings.evidence_dir)
    version = locker.versions(kept.finding_id)[0]
    kept_file = locker.path(version.screenshot_file or "")
    original = kept_file.read_bytes()
    try:
        flip_one_byte(kept_file, 300)
        with pytest.raises(EvidenceError, match="no longer matches its recorded SHA-256"):
            export(kept.settings, store, kept.finding_id, tmp_path / "finding")
    finally:
        kept_file.write_bytes(original)
        kept_file.chmod(0o400)


def test_a_page_too_long_for_one_image_keeps_its_top(tmp_path: Path) -> None:
    from scanner.config import Site
    from scanner.demo import serve_folder
    from spiders.browser import MAX_SHOT_PIXELS, Screenshotter

    (tmp_path / "padded.html").write_text('<body style="margin:0"><div style="height:300000px">filler</div><p>Kate</p></body>')
    (tmp_path / "short.html").write_text("<body><p>Kate Isaacs</p></body>")
    shots: dict[str, tuple[bytes, str]] = {}

    def shoot_both(base: str) -> None:  # in its own thread, as the crawl does: Playwright's sync API owns one
        with Screenshotter("/usr/bin/chromium") as browser:
            site = Site(id="t", start_urls=(base + "padded.html",))
            shots.update({name: browser.shoot(site, base + name) for name in ("padded.html", "short.html")})

    with serve_folder(tmp_path) as base:
        worker = threading.Thread(target=shoot_both, args=(base,))
        worker.start()
        worker.join(timeout=120)
    (tall, how), (short, whole) = shots["padded.html"], shots["short.html"]
    assert tall.startswith(b"\x89PNG") and int.from_bytes(tall[20:24], "big") == MAX_SHOT_PIXELS  # PNG height field
    assert "too long for one image (300,0" in how and how.endswith("its top 12,000 pixels")
    assert short.startswith(b"\x89PNG") and whole == "full page"
