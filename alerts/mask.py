"""Masking: how much of a watched identifier an alert e-mail may show.

An alert passes through mail servers and sits in inboxes and phones the
protected person does not fully control. By default it shows enough for the
person to recognise their own detail, not enough for a stranger to use it: a
phone keeps its last two digits, an address loses its house number, an e-mail
keeps its first letter and domain. Names are shown: the person knows their own
name and the subject needs it.

:func:`mask` masks one matched identifier; :class:`Redactor` finds watched
identifiers again in free text (a rule's explanation, a headline, a URL),
because those are built from the same page text and would otherwise leak what
the match list hides.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import urlsplit

DOT = "•"
HIDDEN = DOT * 3

# A house number: "1723", "12B", "1723-1725", "4/2"; not "5th", not part of "SW1A".
_NUMBER = re.compile(r"(?<![\w-])\d+[A-Za-z]?(?:\s?[-/–]\s?\d+[A-Za-z]?)?(?!\w)")
_POSTCODE = re.compile(r"\d{5}(?:-\d{4})?")
# "@", "[at]", "(at)" or " at " between the two halves of a written-out e-mail.
_AT = re.compile(r"\s*(?:@|[\[({]\s*at\s*[\])}]|\s+at\s+)\s*", re.IGNORECASE)
# Seven or more digits with the usual phone separators between them.
_PHONEISH = re.compile(r"\+?\(?\d(?:[\s().\-/]{0,2}\d){6,}")
_PHONE_TAIL = 7


def mask_phone(text: str) -> str:
    """Every digit but the last two becomes a dot; separators stay, so the shape is familiar."""
    total = sum(c.isdigit() for c in text)
    keep = 2 if total > 4 else 0
    out: list[str] = []
    seen = 0
    for char in text:
        if char.isdigit():
            seen += 1
            out.append(char if seen > total - keep else DOT)
        else:
            out.append(char)
    return "".join(out)


def _is_postcode(text: str, found: re.Match[str], last: bool) -> bool:
    """A trailing 5-digit code after some words is a ZIP/postcode, not a house number."""
    return last and bool(_POSTCODE.fullmatch(found.group())) and bool(re.search(r"[^\W\d_]", text[: found.start()]))


def house_numbers(text: str) -> list[str]:
    """The numbers in an address that :func:`mask_address` hides."""
    found = list(_NUMBER.finditer(text))
    return [m.group() for i, m in enumerate(found) if not _is_postcode(text, m, i == len(found) - 1)]


def mask_address(text: str) -> str:
    """Hide house, flat and unit numbers; keep the street, town and postcode."""
    found = list(_NUMBER.finditer(text))
    out, pos = [], 0
    for i, m in enumerate(found):
        if _is_postcode(text, m, i == len(found) - 1):
            continue
        out += [text[pos : m.start()], HIDDEN]
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def mask_username(text: str) -> str:
    """First character only (after a leading "@")."""
    text = text.strip()
    prefix = "@" if text.startswith("@") else ""
    rest = text[len(prefix) :]
    return f"{prefix}{rest[:1]}{HIDDEN}" if rest else HIDDEN


def mask_email(text: str) -> str:
    """First letter and the domain: "k•••@example.org". Written-out forms ("kate [at] ...") too."""
    parts = _AT.split(text.strip(), maxsplit=1)
    if len(parts) != 2 or not parts[1]:
        return mask_username(text)
    local, domain = parts
    return f"{local[:1]}{HIDDEN}@{domain}"


def mask_photo(text: str) -> str:
    """Only the host of a photo link: enough to know which site hosts it."""
    parts = urlsplit(text.strip())
    if parts.scheme and parts.hostname:
        return f"{parts.scheme}://{parts.hostname}/{HIDDEN}"
    return HIDDEN


def _show(text: str) -> str:
    return text


_MASKERS: dict[str, Callable[[str], str]] = {
    "name": _show,
    "phone": mask_phone,
    "address": mask_address,
    "email": mask_email,
    "username": mask_username,
    "photo": mask_photo,
}


def mask(kind: str, text: str) -> str:
    """Mask one identifier of the given kind; an unknown kind is hidden entirely."""
    masker = _MASKERS.get(kind)
    return masker(text) if masker else HIDDEN


def _bounded(value: str) -> str:
    """A literal that does not match inside a longer word ("kate" not in "kates")."""
    left = r"(?<!\w)" if value[:1].isalnum() else ""
    right = r"(?!\w)" if value[-1:].isalnum() else ""
    return f"{left}{re.escape(value)}{right}"


@dataclass(frozen=True)
class Redactor:
    """Masks watched identifiers wherever they appear in free text.

    Three passes, each for a way a detail can reappear: the exact values
    (as the page wrote them and as they are watched, any case), any run of
    seven or more digits ending like a watched phone, and a watched address's
    house number standing alone.
    """

    kinds: dict[str, str]
    phone_tails: frozenset[str]
    numbers: frozenset[str]

    @classmethod
    def build(cls, values: Iterable[tuple[str, str]]) -> Redactor:
        """``values`` are (kind, text) pairs; names are left out because they are shown."""
        kinds: dict[str, str] = {}
        tails: set[str] = set()
        numbers: set[str] = set()
        for kind, value in values:
            value = value.strip()
            if kind == "name" or not value:
                continue
            kinds.setdefault(value.lower(), kind)
            if kind == "phone":
                digits = re.sub(r"\D", "", value)
                if len(digits) >= _PHONE_TAIL:
                    tails.add(digits[-_PHONE_TAIL:])
            elif kind == "address":
                numbers.update(house_numbers(value))
        return cls(kinds=kinds, phone_tails=frozenset(tails), numbers=frozenset(numbers))

    def __call__(self, text: str) -> str:
        text = self._literals(text)
        text = _PHONEISH.sub(self._phone, text)
        return self._numbers(text)

    def _literals(self, text: str) -> str:
        if not self.kinds:
            return text
        values = sorted(self.kinds, key=len, reverse=True)
        pattern = re.compile(
            "|".join(_bounded(v) for v in values),
            re.IGNORECASE,
        )
        return pattern.sub(lambda m: mask(self.kinds.get(m.group().lower(), "?"), m.group()), text)

    def _phone(self, found: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", found.group())
        return mask_phone(found.group()) if digits[-_PHONE_TAIL:] in self.phone_tails else found.group()

    def _numbers(self, text: str) -> str:
        if not self.numbers:
            return text
        alternatives = "|".join(re.escape(n) for n in sorted(self.numbers, key=len, reverse=True))
        return re.sub(rf"(?<![\w{DOT}])(?:{alternatives})(?![\w{DOT}])", HIDDEN, text, flags=re.IGNORECASE)
