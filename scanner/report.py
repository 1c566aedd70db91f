"""Findings shown to people (a table) and to machines (JSON lines)."""
from __future__ import annotations

from typing import Any, Sequence

from alerts.mask import mask
from scanner.storage import FindingRow


def finding_json(row: FindingRow, *, redact: bool = True) -> dict[str, Any]:
    """A finding for machines; identifiers masked unless ``[alerts] redact = false``."""
    return {
        "id": row.id,
        "person": row.person,
        "rule": row.rule,
        "severity": row.severity,
        "score": round(row.score, 3),
        "site": row.site,
        "url": row.url,
        "found_at": row.found_at.isoformat(),
        "matches": [
            {"kind": m["kind"], "text": mask(m["kind"], m["text"]) if redact else m["text"], "start": m["start"], "end": m["end"]}
            for m in row.matches
        ],
        "explanation": row.explanation,
    }


def _matched(row: FindingRow, redact: bool) -> str:
    shown = []
    for m in row.matches:
        text = mask(m["kind"], m["text"]) if redact else m["text"]
        shown.append(f"{m['kind']}: {text}")
    return "; ".join(dict.fromkeys(shown))


def findings_table(rows: Sequence[FindingRow], *, redact: bool = True) -> str:
    if not rows:
        return "no findings yet"
    lines = [f"{'ID':>4}  {'FOUND (UTC)':16}  {'SEVERITY':8}  {'PERSON':12}  {'RULE':22}  URL"]
    for row in rows:
        lines.append(
            f"{row.id:>4}  {row.found_at:%Y-%m-%d %H:%M}  {row.severity.upper():8}  {row.person[:12]:12}  "
            f"{row.rule[:22]:22}  {row.url}"
        )
        lines.append(f"{'':6}{row.explanation}")
        lines.append(f"{'':6}matched: {_matched(row, redact)}")
    return "\n".join(lines)
