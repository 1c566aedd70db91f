"""Every detector the engine runs, listed here and only here.

Adding a detector means writing its class and adding it to :data:`DETECTORS`;
nothing is discovered by scanning modules or subclasses.
"""
from __future__ import annotations

from rules.detectors.address import AddressDetector
from rules.detectors.base import Detector
from rules.detectors.email import EmailDetector
from rules.detectors.name import NameDetector
from rules.detectors.phone import PhoneDetector
from rules.detectors.photo import PhotoDetector
from rules.detectors.username import UsernameDetector
from rules.model import KINDS, Kind

DETECTORS: tuple[type[Detector], ...] = (
    NameDetector,
    PhoneDetector,
    AddressDetector,
    EmailDetector,
    UsernameDetector,
    PhotoDetector,
)


def detectors() -> tuple[Detector, ...]:
    """One instance of each registered detector."""
    return tuple(cls() for cls in DETECTORS)


def detector_for(kind: Kind) -> Detector:
    for cls in DETECTORS:
        if cls.kind == kind:
            return cls()
    raise KeyError(f"no detector for {kind!r}; known kinds: {', '.join(KINDS)}")
