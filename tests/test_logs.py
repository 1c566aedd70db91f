"""Log lines never show a watched identifier in clear, however the line writes it."""
from __future__ import annotations

import logging

import pytest

from scanner.config import settings_from, validate
from scanner.logs import RedactingFilter, setup_logging, watched_values

SETTINGS = settings_from(
    validate(
        {
            "people": [
                {
                    "id": "kate",
                    "names": ["Kate Isaacs"],
                    "phones": ["+1 312 555 0123"],
                    "addresses": [{"value": "1723 N Halsted St, Chicago IL 60614", "kind": "home"}],
                    "emails": ["kate.isaacs@example.org"],
                    "alert_to": ["kate@example.org"],
                }
            ]
        }
    ),
    None,
    {},
)


@pytest.mark.parametrize(
    "line, hidden",
    [
        ("GET http://x.example.org/kate-isaacs-312-555-0123.html: HTTP 404", ["kate", "isaacs", "555", "0123"]),
        ("http://x.example.org/u/kateisaacs/1723-n-halsted-st: HTTP 404", ["kateisaacs", "1723", "halsted"]),
        ("ISAACS, Kate lives at 1723 North Halsted Street", ["isaacs", "kate", "1723", "halsted"]),
        ("mail to kate.isaacs@example.org failed", ["kate.isaacs", "example.org"]),
        ("found (312) 555-0123 on page", ["555-0123"]),
    ],
)
def test_identifiers_are_masked_in_any_form(line: str, hidden: list[str]) -> None:
    shown = RedactingFilter(watched_values(SETTINGS)).redact(line).lower()
    for part in hidden:
        assert part not in shown, shown


def test_ordinary_lines_pass_unchanged() -> None:
    line = "crawl of forum finished: 200 pages in 31 s, 2 errors"
    assert RedactingFilter(watched_values(SETTINGS)).redact(line) == line


def test_every_handler_line_is_redacted(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(SETTINGS, verbosity=1)
    try:
        logging.getLogger("spiders.test").warning("404 at /kate-isaacs/%s", "1723-n-halsted-st")
        err = capsys.readouterr().err
    finally:
        setup_logging(None, 0)
    assert "404 at /[redacted]/[redacted]" in err
    assert "1723" not in err
