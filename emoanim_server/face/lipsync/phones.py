"""The typed timeline passed from recognition to animation: phones with times in seconds."""
from __future__ import annotations

from dataclasses import dataclass

#: ARPAbet phones (CMUdict set, lowercase, no stress) plus ``sil`` for pauses.
PHONES = (
    "aa ae ah ao aw ay b ch d dh eh er ey f g hh ih iy jh k l m n ng ow oy p r s sh t th uh uw "
    "v w y z zh sil"
).split()


@dataclass(frozen=True)
class Phone:
    start: float
    end: float
    phone: str
    word: str = ""

    @property
    def mid(self) -> float:
        return 0.5 * (self.start + self.end)


PhoneTimeline = list  # list[Phone], sorted by start, non-overlapping


def normalise(label: str) -> str:
    """Map recogniser/aligner labels (``AH0``, ``SIL``, ``+NSN+``, ``sp``) to our phone set."""
    p = label.strip().lower().rstrip("012")
    if p in PHONES:
        return p
    return "sil"
