"""Warnings for a config that is valid but will not do what its user hopes.

``doxwatch config check`` prints these beside "OK": a valid file can still
watch a person whose alerts reach nobody, or queue every alert behind a
missing password. None of them stops doxwatch; each says what to change.
"""
from __future__ import annotations

from collections.abc import Mapping

from scanner.config import ENV_SMTP_PASSWORD, Settings


def warnings(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    if not settings.people:
        found.append("no [[people]] are configured, so nothing is watched; add one (see `doxwatch init`)")
    if not settings.sites:
        found.append("no [[sites]] are configured, so `scan` and `run` have nothing to crawl; add one")
    if settings.smtp.username and not environ.get(ENV_SMTP_PASSWORD):
        found.append(
            f"smtp.username is set but {ENV_SMTP_PASSWORD} is not in this environment; alerts will wait in the "
            "outbox until the process that sends them has it"
        )
    from alerts.audience import audiences

    followed = {pid for audience in audiences(settings) for pid in audience.people}
    found += [
        f"{person.id}: nobody gets alerts about this person; add alert_to, or a [[recipients]] entry that covers them"
        for person in settings.people
        if person.id not in followed
    ]
    watched = {pid for site in settings.sites for pid in (site.people if site.people is not None else [p.id for p in settings.people])}
    found += [f"{p.id}: no site watches this person (every [[sites]] entry lists other people)" for p in settings.people if p.id not in watched]
    return found

