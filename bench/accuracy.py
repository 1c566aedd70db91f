"""How well the rule engine finds people, and how well it judges intent: measured, not hoped.

Two measurements, printed side by side with their targets:

1. The hand-labelled webstruct pages in ``../shared/eval/webstruct/`` (real
   contact and random pages of small organisations). Every labelled phone,
   street address and person's name becomes one watched identifier, typed the
   way a user types it, which is not the way the page writes it (see
   :func:`typed_phone`, :func:`typed_address`, :func:`typed_name`). Every page is
   then scanned for every identifier: recall and precision per kind, counted
   over (page, identifier) pairs. Then each page's own name, phones and address
   are watched together as one person, as a security team would enter a member
   of staff, and no page may come out ``high``: these pages are benign.
2. The labelled doxing set in ``tests/corpus/``: precision, recall and F1 of
   ``high``, and no benign text at ``high``.

Run ``make accuracy`` or ``python bench/accuracy.py [--eval-dir DIR] [--show-errors]``.
Exits 1 when a figure is below its target.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import phonenumbers  # noqa: E402

from bench.webstruct import DEFAULT_EVAL_DIR, Page, load_pages  # noqa: E402
from rules import abbrev  # noqa: E402
from rules.address import parse_address  # noqa: E402
from rules.engine import Engine  # noqa: E402
from rules.fold import fold_value  # noqa: E402
from rules.model import Severity  # noqa: E402
from rules.names import nicknames, parse_name  # noqa: E402
from rules.normalise import phone_key  # noqa: E402
from rules.watchlist import Identity  # noqa: E402

TARGETS = {
    "phone": {"recall": 0.98, "precision": 0.98},
    "address": {"recall": 0.95, "precision": 0.98},
    "name": {"recall": 0.95, "precision": 0.98},
}
CORPUS_TARGET_F1 = 0.9
ADDRESS_PARTS = ("CITY", "STATE", "ZIPCODE")
_US_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")
_CA_POSTCODE = re.compile(r"^[A-Z]\d[A-Z]\s?\d[A-Z]\d$", re.IGNORECASE)
_UK_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$", re.IGNORECASE)
_UNIT_FIRST = re.compile(r"^(?:(?:loft|suite|ste|unit|flat|apt|floor|level|building|bldg|no)\b\.?\s*[\w-]*,?\s+)+(?=\d)",
                         re.IGNORECASE)
#: The last "number street-name street-type" in a label that holds a room, a building and then the street.
_LAST_STREET = re.compile(rf"(?<![\w-])\d+[A-Za-z]?\s+(?:[\w.'-]+\s+){{0,4}}?{abbrev.any_regex('suffix')}(?!\w)(?!.*(?<![\w-])\d+[A-Za-z]?\s+(?:[A-Za-z.'-]+\s+){{0,4}}?{abbrev.any_regex('suffix')}(?!\w))",
                          re.IGNORECASE)
_PO_BOX = re.compile(r"\b(p\.?\s*o\.?\s*box|box \d|mail code)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Watched:
    """One identifier of the benchmark watchlist: how the user typed it and how it is compared."""

    id: str
    kind: str  # phone, address, name
    typed: str
    key: str  # what makes two labels the same identifier
    region: str = "US"
    group: str = ""  # for addresses: "US/UK/CA" or "other"


# -- watchlists typed the way users type them ------------------------------------------------------


def typed_phone(label: str) -> tuple[str, str, str] | None:
    """(typed, key, region) for a TEL label a user could type as one number, or None (vanity letters, lists)."""
    text = label.strip()
    if len(re.findall(r"[A-Za-z]", re.sub(r"(?i)\b(ext|x)\b\.?", "", text))) >= 2 or text.count(",") or "/" in text:
        return None
    text = re.split(r"(?i)\s*(?:ext\.?|x)\s*\d+\s*$", text)[0]
    for region in ("US", "GB"):
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if not 7 <= len(str(number.national_number)) <= 12:
            continue
        if not text.lstrip().startswith("+") and region == "US" and not phonenumbers.is_possible_number(number):
            continue
        fmt = phonenumbers.PhoneNumberFormat
        forms = [phonenumbers.format_number(number, f) for f in (fmt.INTERNATIONAL, fmt.E164, fmt.NATIONAL)]
        forms.append(re.sub(r"\D", "", forms[2]))  # digits only, as in a spreadsheet
        start = zlib.crc32(text.encode()) % len(forms)  # a different habit for each number, never the page's own
        typed = next(f for f in forms[start:] + forms[:start] if " ".join(f.split()) != " ".join(text.split()))
        region_code = phonenumbers.region_code_for_number(number) or region
        return typed, phone_key(typed, region_code), region_code
    return None


def typed_address(street: str, parts: dict[str, str]) -> tuple[str, str, str] | None:
    """(typed, key, group) for a STREET label and its CITY/STATE/ZIPCODE, or None when it is no house address.

    Typed the other way round from the page: spelled-out street types and
    directions become USPS abbreviations and abbreviations are spelled out, a
    state name becomes its two-letter code and a code its name.
    """
    street = " ".join(street.split())
    street = _UNIT_FIRST.sub("", street)  # "Loft 168, 168 SE 1st St." is typed from the house number on
    last = _LAST_STREET.search(street)
    if last and last.start() > 0:  # "514 Goodell Building ... 140 Hicks Way": the street is the last part
        street = street[last.start():]
    if not re.search(r"\d", street) or _PO_BOX.search(street):
        return None
    city, state, zipcode = parts.get("CITY", ""), parts.get("STATE", ""), parts.get("ZIPCODE", "")
    if not (city or zipcode):
        return None
    if re.match(r"\d+(st|nd|rd|th)\b", street, re.IGNORECASE):
        return None  # "64th Street and Fifth Avenue": a corner, no house number
    typed_street = _swap_street(street)
    typed_state = _swap_state(state)
    place = " ".join(p for p in (city, typed_state, zipcode) if p)
    typed = f"{typed_street}, {place}"
    group = _country_group(state, zipcode)
    region = {"US/UK/CA": "US"}.get(group, "US")
    if group == "US/UK/CA" and _UK_POSTCODE.match(zipcode.strip()):
        region = "GB"
    parsed = parse_address(typed, region)
    if parsed is None:
        return None
    return typed, _address_key(street, city, zipcode), group


def typed_name(label: str) -> tuple[str, str] | None:
    """(typed, key) for a PER label that is a full name; a user types no titles, suffixes or middle initials."""
    text = re.sub(r"\(.*?\)", " ", label)
    text = re.sub(r"(?i)^(bishop|mr\.?|mrs\.?|ms\.?|dr\.?|dj|prof\.?)\s+", "", text.strip())
    words = [w for w in text.replace(",", " ").split() if w.rstrip(".").lower() not in {"jr", "sr", "ii", "iii"}]
    while len(words) > 2 and words[-1].isupper() and len(words[-1]) > 2:
        words = words[:-1]  # "Kathy Smith CMFO": a credential, not a name
    if len(words) < 2 or len(words[-1].rstrip(".")) < 2 or any(ch.isdigit() for ch in text):
        return None
    if len(words) > 2 and all(len(w.rstrip(".")) == 1 for w in words[1:-1]):
        words = [words[0], words[-1]]  # "John F. Murray" is typed "John Murray"
    plain = fold_value(" ".join(words))  # typed without diacritics: "Diego Nunez" for "Diego Núñez"
    parsed = parse_name(plain)
    if parsed is None:
        return None
    given, surname = plain.split()[0], " ".join(plain.split()[1:])
    habit = zlib.crc32(plain.encode()) % 4  # a different habit for each person
    full_forms = sorted(n for n in nicknames(parsed.given) if len(n) > len(parsed.given))
    if habit == 1:
        typed = f"{surname}, {given}"  # from a spreadsheet
    elif habit == 2:
        typed = plain.lower()
    elif habit == 3 and full_forms:
        typed = f"{full_forms[0].title()} {surname}"  # the user knows Dave as David
    else:
        typed = plain
    return typed, f"{parsed.given} {parsed.surname}"


#: The street types people abbreviate when they type an address, with the abbreviation they use.
COMMON_TYPES = {"street": "St", "avenue": "Ave", "road": "Rd", "drive": "Dr", "boulevard": "Blvd", "lane": "Ln",
                "court": "Ct", "place": "Pl", "parkway": "Pkwy", "circle": "Cir", "highway": "Hwy", "square": "Sq",
                "terrace": "Ter"}
_DIRECTIONS = {"north": "N", "south": "S", "east": "E", "west": "W", "northeast": "NE", "northwest": "NW",
               "southeast": "SE", "southwest": "SW"}


def _swap_street(street: str) -> str:
    """The street as a user might type it when the page spells it the other way: St for Street, North for N."""
    words = street.replace(",", " , ").split()
    last = max((i for i, w in enumerate(words) if _street_type(w)), default=-1)
    out = []
    for i, word in enumerate(words):
        bare = word.rstrip(".").lower()
        if i == last:
            out.append(_other_spelling(bare, COMMON_TYPES) or word)
        elif i in (1, last + 1) and bare in {**_DIRECTIONS, **{v.lower(): k for k, v in _DIRECTIONS.items()}} \
                and not (i + 1 == last):  # "89 South St": South is the street's name, not a direction
            out.append(_other_spelling(bare, _DIRECTIONS) or word)
        else:
            out.append(word)
    return " ".join(out).replace(" , ", ", ")


def _street_type(word: str) -> bool:
    bare = word.rstrip(".").lower()
    return bare in COMMON_TYPES or bare in {v.lower() for v in COMMON_TYPES.values()}


def _other_spelling(bare: str, table: dict[str, str]) -> str | None:
    if bare in table:
        return table[bare]
    full = {v.lower(): k for k, v in table.items()}.get(bare)
    return full.title() if full and len(full) > 2 else full.upper() if full else None


def _swap_state(state: str) -> str:
    canonical = abbrev.canonical("state", state)
    if not canonical:
        return state
    if state.strip().lower() == canonical:
        return abbrev.STATES[canonical][1].title()
    return canonical.upper()


def _country_group(state: str, zipcode: str) -> str:
    """US (ZIP code, and a state if any), Canada (postal code or province) or the UK (postcode); else other."""
    zipcode = zipcode.strip()
    known_state = bool(abbrev.canonical("state", state))
    if _CA_POSTCODE.match(zipcode) or _UK_POSTCODE.match(zipcode):
        return "US/UK/CA"
    if _US_ZIP.match(zipcode) and known_state:  # a bare 5-digit code may as well be French or German
        return "US/UK/CA"
    if not zipcode and known_state:
        return "US/UK/CA"
    return "other"


def _address_key(street: str, city: str, zipcode: str) -> str:
    number = re.search(r"\d+", street)
    name = re.sub(r"[^a-z ]", " ", street.lower()[number.end():] if number else street.lower()).split()
    name = [w for w in name if not abbrev.canonical("directional", w)]
    place = zipcode.strip().lower()[:5] or " ".join(city.lower().split())
    return f"{number.group() if number else ''} {name[0] if name else ''} {place}"


def address_groups(page: Page) -> Iterable[tuple[str, dict[str, str]]]:
    """Each STREET label with the CITY, STATE and ZIPCODE labels that follow it."""
    labels = page.labels
    for i, label in enumerate(labels):
        if label.type != "STREET":
            continue
        parts: dict[str, str] = {}
        for nxt in labels[i + 1 : i + 5]:
            if nxt.type not in ADDRESS_PARTS or nxt.type in parts:
                break
            parts[nxt.type] = nxt.text
        yield label.text, parts


def build_watchlist(pages: list[Page]) -> tuple[dict[str, Watched], dict[str, set[str]], Counter[str]]:
    """Every distinct identifier, the pages that carry it (by its labels), and what was left out and why."""
    watched: dict[str, Watched] = {}
    by_key: dict[tuple[str, str], str] = {}
    truth: dict[str, set[str]] = defaultdict(set)
    skipped: Counter[str] = Counter()

    def add(kind: str, page: Page, found: tuple[str, ...] | None, label: str, region: str = "US", group: str = "") -> None:
        if found is None:
            skipped[kind] += 1
            return
        typed, key = found[0], found[1]
        ident = by_key.get((kind, key))
        if ident is None:
            ident = by_key[(kind, key)] = f"{kind}-{len(by_key)}"
            watched[ident] = Watched(ident, kind, typed, key, region, group)
        truth[ident].add(page.id)

    for page in pages:
        for label in page.of("TEL"):
            result = typed_phone(label.text)
            add("phone", page, result[:2] if result else None, label.text, result[2] if result else "US")
        for street, parts in address_groups(page):
            result = typed_address(street, parts)
            add("address", page, result[:2] if result else None, street, group=result[2] if result else "")
        for label in page.of("PER"):
            add("name", page, typed_name(label.text), label.text)
    return watched, truth, skipped


def identities(watched: dict[str, Watched]) -> list[Identity]:
    out = []
    for w in watched.values():
        field = {"phone": "phones", "address": "addresses", "name": "names"}[w.kind]
        out.append(Identity(id=w.id, phone_region=w.region, **{field: (w.typed,)}))
    return out


# -- measuring ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    expected: int = 0
    found: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0


def detection(pages: list[Page], show_errors: bool) -> tuple[dict[str, Tally], bool, float, int]:
    watched, truth, skipped = build_watchlist(pages)
    engine = Engine(identities(watched))
    kind_of = {w.id: w.kind for w in watched.values()}
    tallies: dict[str, Tally] = defaultdict(Tally)
    found_pairs: set[tuple[str, str]] = set()
    for page in pages:
        for match in engine.find(page.page):
            if match.kind == kind_of[match.person]:
                found_pairs.add((page.id, match.person))
    started = time.perf_counter()  # timed on a second pass, after spaCy has loaded
    for page in pages:
        engine.find(page.page)
    elapsed = time.perf_counter() - started
    expected_pairs = {(p, ident) for ident, ps in truth.items() for p in ps}
    errors: list[str] = []
    for ident, w in watched.items():
        keys = [w.kind] + ([f"address ({w.group})"] if w.kind == "address" else [])
        for page_id in {p for p, i in expected_pairs | found_pairs if i == ident}:
            hit, want = (page_id, ident) in found_pairs, (page_id, ident) in expected_pairs
            for key in keys:
                tallies[key].expected += want
                tallies[key].found += hit
                tallies[key].correct += hit and want
            if hit != want:
                errors.append(f"  {'missed' if want else 'false match'}: {w.kind}{' (' + w.group + ')' if w.group else ''}"
                              f" {w.typed!r} on {page_id}")
    print(f"webstruct: {len(pages)} pages, {len(watched)} watched identifiers "
          f"({', '.join(f'{n} {k}' for k, n in sorted(Counter(w.kind for w in watched.values()).items()))}); "
          f"labels left out as not one typeable identifier: {dict(skipped)}")
    ok = True
    print(f"  {'kind':<22} {'pairs':>6} {'found':>6} {'recall':>8} {'precision':>10}   target")
    for key in ("phone", "address", "address (US/UK/CA)", "address (other)", "name"):
        tally = tallies.get(key)
        if tally is None:
            continue
        target = TARGETS.get(key.replace(" (US/UK/CA)", "") if key != "address" else "", {})
        verdict = ""
        if target:
            passed = tally.recall >= target["recall"] and tally.precision >= target["precision"]
            ok &= passed
            verdict = f"recall >= {target['recall']}, precision >= {target['precision']}: {'PASS' if passed else 'FAIL'}"
        print(f"  {key:<22} {tally.expected:>6} {tally.found:>6} {tally.recall:>8.3f} {tally.precision:>10.3f}   {verdict}")
    if show_errors and errors:
        print("\n".join(sorted(errors)))
    return tallies, ok, elapsed, sum(len(p.page.text) for p in pages)


def benign_pages(pages: list[Page], show_errors: bool) -> bool:
    """Each page's own people, phones and addresses watched as one person: no page may be ``high``."""
    people = []
    for page in pages:
        names = [t[0] for t in (typed_name(label.text) for label in page.of("PER")) if t]
        phones = [t[0] for t in (typed_phone(label.text) for label in page.of("TEL")) if t]
        addresses = [t[0] for t in (typed_address(s, p) for s, p in address_groups(page)) if t]
        if (names and (phones or addresses)) or len(phones) + len(addresses) > 1:
            people.append(Identity(id=page.id, names=tuple(names), phones=tuple(phones), addresses=tuple(addresses)))
    engine = Engine(people)
    severities: Counter[str] = Counter()
    high = []
    for page in pages:
        for hit in engine.analyse(page.page, [page.id]):
            severities[hit.severity.value] += 1
            if hit.severity >= Severity.HIGH:
                high.append(f"  high: {page.id} [{hit.rule}] {hit.explanation}")
    print(f"benign pages, each page's own people watched together ({len(people)} people): "
          f"verdicts {dict(sorted(severities.items()))}; at high: {len(high)} (target 0): {'PASS' if not high else 'FAIL'}")
    if show_errors:
        print("\n".join(high))
    return not high


def corpus(show_errors: bool) -> bool:
    from bench.corpus import evaluate

    result = evaluate()
    print(f"doxing corpus (tests/corpus/): {result.texts} texts ({result.doxing} doxing, {result.benign} benign); "
          f"high: precision {result.precision:.3f}, recall {result.recall:.3f}, F1 {result.f1:.3f} "
          f"(target >= {CORPUS_TARGET_F1}); benign texts at high: {len(result.benign_high)} (target 0): "
          f"{'PASS' if result.f1 >= CORPUS_TARGET_F1 and not result.benign_high else 'FAIL'}")
    if show_errors:
        for line in result.errors:
            print("  " + line)
    return result.f1 >= CORPUS_TARGET_F1 and not result.benign_high


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR,
                        help=f"the shared eval folder holding webstruct/ (default {DEFAULT_EVAL_DIR})")
    parser.add_argument("--show-errors", action="store_true", help="list every miss, false match and high verdict")
    args = parser.parse_args(argv)
    pages = load_pages(args.eval_dir)
    _, detected, elapsed, chars = detection(pages, args.show_errors)
    print(f"  speed: {len(pages) / elapsed:.0f} pages/s ({chars / elapsed / 1e6:.2f} M characters/s) with the whole "
          "benchmark watchlist")
    benign = benign_pages(pages, args.show_errors)
    doxing = corpus(args.show_errors)
    ok = detected and benign and doxing
    print("ALL TARGETS MET" if ok else "SOME TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
