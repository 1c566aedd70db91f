"""Watchlists for the speed benchmarks: the webstruct pages' own people, then generated fictional ones.

A page's own person is what a security team would enter for a member of
staff named on it: the page's labelled names, phones and street address,
typed the way a user types them (:mod:`bench.accuracy`). Generated people are
fictional: names from Faker's US and UK name tables (seeded, so every run
watches the same people), phone numbers in the 555-0100..0199 range kept for
fiction, across many area codes, and invented streets in invented towns
(Faker's "<name> <suffix>" streets in "<New Angelaport>"-style places), with
an ``example.org`` e-mail address, some usernames and a few photo links.
"""
from __future__ import annotations

import random
from collections.abc import Iterator

from bench.accuracy import address_groups, typed_address, typed_name, typed_phone
from bench.webstruct import Page
from rules.watchlist import Identity

SEED = 6
#: US area codes the generated numbers spread over (555-01xx is fictional in every one of them).
AREA_CODES = tuple(range(201, 990))


def page_person(page: Page) -> Identity | None:
    """The page's own person: every typeable name, phone and address it labels, or None if it labels none.

    Like every generated person, they also get a fictional e-mail address,
    username and photo link, so that every detector runs whatever the size
    of the watchlist: the sizes differ only in how many people are watched.
    """
    names = tuple(dict.fromkeys(t[0] for t in (typed_name(label.text) for label in page.of("PER")) if t))
    phones = tuple(dict.fromkeys(t[0] for t in (typed_phone(label.text) for label in page.of("TEL")) if t))
    addresses = tuple(dict.fromkeys(t[0] for t in (typed_address(s, p) for s, p in address_groups(page)) if t))
    if not (names or phones or addresses):
        return None
    handle = "staff" + page.id.replace("/", "").replace("_", "")
    return Identity(id=f"page:{page.id}", names=names, phones=phones, addresses=addresses,
                    emails=(f"{handle}@example.org",), usernames=(f"@{handle}",),
                    photos=(f"https://img.example.org/staff/{handle}.jpg",))


def page_people(pages: list[Page]) -> list[Identity]:
    return [person for page in pages if (person := page_person(page)) is not None]


def generated_people(count: int, seed: int = SEED) -> list[Identity]:
    """``count`` fictional people, the same ones for the same seed."""
    return list(_generate(count, seed))


def watchlist(size: int, own: list[Identity], seed: int = SEED) -> list[Identity]:
    """``size`` people: the pages' own people first, then generated ones."""
    chosen = own[:size]
    return chosen + generated_people(size - len(chosen), seed)


def _generate(count: int, seed: int) -> Iterator[Identity]:
    from faker import Faker

    rng = random.Random(seed)
    us, uk = Faker("en_US"), Faker("en_GB")
    us.seed_instance(seed)
    uk.seed_instance(seed + 1)
    phones: set[str] = set()
    for i in range(count):
        fake = us if i % 4 else uk
        given, surname = fake.first_name(), fake.last_name()
        phone = _phone(rng, phones)
        street = f"{_house_number(rng)} {fake.street_name()}"
        if fake is us:
            address = f"{street}, {fake.city()} {fake.state_abbr(include_territories=False)} {fake.zipcode()}"
        else:
            address = f"{street}, {fake.city()} {fake.postcode()}"
        handle = f"{given}{surname}{i}".lower()
        yield Identity(
            id=f"gen-{i:05d}",
            names=(f"{given} {surname}",),
            phones=(phone,),
            addresses=(address,),
            emails=(f"{given}.{surname}.{i}@example.org".lower(),),
            usernames=(f"@{handle}",) if i % 2 else (),
            photos=(f"https://img.example.org/staff/{handle}.jpg",) if i % 10 == 0 else (),
            phone_region="US",
        )


def _phone(rng: random.Random, taken: set[str]) -> str:
    while True:
        number = f"+1 {rng.choice(AREA_CODES)} 555 01{rng.randrange(100):02d}"
        if number not in taken:
            taken.add(number)
            return number


def _house_number(rng: random.Random) -> int:
    """Small numbers are commoner, as on real streets: a fifth under 100, the rest up to 9999."""
    roll = rng.random()
    if roll < 0.2:
        return rng.randint(1, 99)
    if roll < 0.6:
        return rng.randint(100, 999)
    return rng.randint(1000, 9999)
