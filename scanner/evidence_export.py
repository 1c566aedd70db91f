"""Evidence packages: export one finding for the police or a platform, and verify one later.

A package is a folder or a ``.zip`` holding an HTML report (what was found,
where, when, the screenshots, the matched identifiers, the rule's
explanation, the hashes), ``finding.json`` with the same facts for machines,
every evidence file as kept, and a manifest of every file with its SHA-256
(``manifest.json``, and ``SHA256SUMS`` for ``sha256sum -c``). The report needs
no network: styles are inline and images are files of the package.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.config import Settings
from scanner.evidence import EvidenceLocker, EvidenceRow, sha256_of
from scanner.storage import FindingRow, Store

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
REPORT = "report.html"
_TEMPLATES = Path(__file__).parent / "templates"


class EvidenceError(Exception):
    """The package cannot be made or read; the message says why and what to do."""


@dataclass(frozen=True)
class Exported:
    path: Path
    files: int
    manifest_sha256: str
    versions: int


@dataclass
class Verdict:
    ok: bool
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    manifest_sha256: str = ""


# --- export ---------------------------------------------------------------------------


def export(settings: Settings, store: Store, finding_id: int, out: Path, *, redact: bool = False) -> Exported:
    """Write the package of one finding to ``out`` (a new folder, or a ``.zip``)."""
    [finding] = store.findings(ids=[finding_id]) or [None]
    if finding is None:
        raise EvidenceError(f"no finding with id {finding_id}; list them with `doxwatch findings`")
    _refuse_existing(out)
    locker = EvidenceLocker(store, settings.evidence_dir)
    versions = locker.versions(finding_id)
    linked = locker.linked(finding_id)
    files: dict[str, bytes] = {}
    shown = []
    for number, version in enumerate(versions, start=1):
        shown.append(_version(locker, version, number, files) | {"shows_this_finding": version.id in linked})
    facts = _facts(finding, shown, redact)
    files["finding.json"] = json.dumps(facts, indent=2, ensure_ascii=False).encode()
    files[REPORT] = _render(facts, _rule_about(settings, finding.rule), files).encode()
    manifest = _manifest(files, finding_id)
    files[MANIFEST] = manifest
    files[SUMS] = "".join(f"{sha256_of(files[n])}  {n}\n" for n in sorted(files) if n not in (MANIFEST, SUMS)).encode()
    _write(out, files)
    return Exported(path=out, files=len(files), manifest_sha256=sha256_of(manifest), versions=len(versions))


def _version(locker: EvidenceLocker, row: EvidenceRow, number: int, files: dict[str, bytes]) -> dict[str, Any]:
    """One kept version into the package, after checking the kept files still match their hashes."""
    body = _kept(locker, row.body_file, row.body_file_sha256)
    if sha256_of(gzip.decompress(body)) != row.body_sha256:
        raise EvidenceError(f"kept response {row.body_file} does not decompress to the recorded body; the evidence folder was altered")
    body_name = f"evidence/v{number}-response.gz"
    files[body_name] = body
    shot_name = None
    if row.screenshot_file and row.screenshot_sha256:
        shot_name = f"evidence/v{number}-screenshot.png"
        files[shot_name] = _kept(locker, row.screenshot_file, row.screenshot_sha256)
    return {
        "version": number,
        "evidence_id": row.id,
        "requested_url": row.requested_url,
        "final_url": row.final_url,
        "fetched_at": _utc(row.fetched_at),
        "http_status": row.status,
        "headers": row.headers,
        "response_file": body_name,
        "response_file_sha256": row.body_file_sha256,
        "response_body_sha256": row.body_sha256,
        "response_body_bytes": row.body_length,
        "screenshot_file": shot_name,
        "screenshot_sha256": row.screenshot_sha256,
        "screenshot_at": _utc(row.screenshot_at) if row.screenshot_at else None,
        "screenshot_note": row.screenshot_note,
    }


def _kept(locker: EvidenceLocker, relative: str, expected: str) -> bytes:
    try:
        data = locker.read(relative)
    except OSError as exc:
        raise EvidenceError(f"kept evidence file {locker.path(relative)} cannot be read ({exc.strerror}); it was moved or deleted") from None
    if sha256_of(data) != expected:
        raise EvidenceError(f"kept evidence file {locker.path(relative)} no longer matches its recorded SHA-256; it was altered")
    return data


def _facts(finding: FindingRow, versions: list[dict[str, Any]], redact: bool) -> dict[str, Any]:
    from alerts.mask import mask

    matches = [
        {k: m[k] for k in ("kind", "text", "start", "end")} | ({"text": mask(str(m["kind"]), str(m["text"]))} if redact else {})
        for m in finding.matches
    ]
    return {
        "finding": {
            "id": finding.id,
            "person": finding.person,
            "rule": finding.rule,
            "severity": finding.severity,
            "score": round(finding.score, 3),
            "site": finding.site,
            "url": finding.url,
            "found_at": _utc(finding.found_at),
            "headline": finding.headline,
            "explanation": finding.explanation,
            "matches": matches,
            "identifiers_redacted": redact,
        },
        "versions": versions,
        "exported_at": _utc(datetime.now(timezone.utc)),
        "exported_by": f"doxwatch {__version__}",
    }


def _rule_about(settings: Settings, rule_id: str) -> dict[str, str]:
    try:
        from rules.schema import load_rules

        for rule in load_rules(settings.rule_dirs):
            if rule.id == rule_id:
                return {"name": rule.meta.name, "description": rule.meta.description}
    except Exception:  # rule files changed since: the finding's own explanation still stands
        pass
    return {}


def _render(facts: dict[str, Any], rule: dict[str, str], files: dict[str, bytes]) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    listed = [{"path": name, "sha256": sha256_of(data), "bytes": len(data)} for name, data in sorted(files.items())]
    return env.get_template("evidence_report.html.j2").render(facts=facts, rule=rule, files=listed)


def _manifest(files: dict[str, bytes], finding_id: int) -> bytes:
    listed = [{"path": name, "sha256": sha256_of(data), "bytes": len(data)} for name, data in sorted(files.items())]
    manifest = {
        "about": f"doxwatch evidence package for finding {finding_id}; check with `doxwatch evidence verify` or `sha256sum -c SHA256SUMS`",
        "finding_id": finding_id,
        "created_at": _utc(datetime.now(timezone.utc)),
        "created_by": f"doxwatch {__version__}",
        "files": listed,
    }
    return json.dumps(manifest, indent=2).encode()


def _refuse_existing(out: Path) -> None:
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise EvidenceError(f"{out} already exists; give a new folder or .zip name (a package is never overwritten)")


def _write(out: Path, files: dict[str, bytes]) -> None:
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for name, data in sorted(files.items()):
                packed = zipfile.ZIP_STORED if name.endswith((".png", ".gz")) else zipfile.ZIP_DEFLATED
                archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=packed)
        return
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, data in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def _utc(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- verify ---------------------------------------------------------------------------


def verify(path: Path) -> Verdict:
    """Re-hash every file of a package against its manifest."""
    files = dict(_read_package(path))
    manifest = files.get(MANIFEST)
    if MANIFEST not in files:
        raise EvidenceError(f"{path} has no {MANIFEST}; it is not a doxwatch evidence package")
    try:
        listed = {f["path"]: f["sha256"] for f in json.loads(manifest or b"")["files"]}
    except (ValueError, KeyError, TypeError):
        raise EvidenceError(f"{path}: {MANIFEST} is unreadable; the package was damaged or altered") from None
    verdict = Verdict(ok=True, manifest_sha256=sha256_of(manifest or b""))
    for name, digest in sorted(listed.items()):
        if name not in files:
            verdict.missing.append(name)
        elif files[name] is None or sha256_of(files[name] or b"") != digest:
            verdict.changed.append(name)
        verdict.checked += 1
    verdict.extra = sorted(set(files) - set(listed) - {MANIFEST, SUMS})
    if SUMS in files and files[SUMS] != "".join(f"{listed[n]}  {n}\n" for n in sorted(listed)).encode():
        verdict.changed.append(SUMS)
    verdict.ok = not (verdict.changed or verdict.missing or verdict.extra)
    return verdict


def _read_package(path: Path) -> Iterator[tuple[str, bytes | None]]:
    """(name, bytes) of every file; ``None`` for a zip member too damaged to read (it changed)."""
    if not path.exists():
        raise EvidenceError(f"{path} does not exist")
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            yield file.relative_to(path).as_posix(), file.read_bytes()
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise EvidenceError(f"{path} is not a readable zip ({exc}); give the package folder or its .zip") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            try:
                yield info.filename, archive.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError):  # a CRC or deflate error: the bytes changed
                yield info.filename, None
