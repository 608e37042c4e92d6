"""Postcodes: the Royal Mail pattern, normalising what people type, finding one in text."""
from __future__ import annotations

import re

# The Royal Mail pattern: letters Q, V, X never start an outcode; I, J, Z are never second;
# the optional letter after the district digit comes from restricted sets; the inward code's
# letters never include C, I, K, M, O or V.
_OUTCODE = (
    r"(?:[A-PR-UWYZ][0-9][0-9]?"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_FULL_RE = re.compile(rf"^({_OUTCODE})({_INWARD})$")
_OUTCODE_RE = re.compile(rf"^{_OUTCODE}$")
_SECTOR_RE = re.compile(rf"^({_OUTCODE}) ([0-9])$")
_FULL_IN_TEXT_RE = re.compile(rf"(?<![A-Z0-9])({_OUTCODE}) ?({_INWARD})(?![A-Z0-9])")


def normalise_postcode(text: str, *, full_only: bool = False) -> str | None:
    """'ls98ab' → 'LS9 8AB'; also 'ls9' → 'LS9' and 'ls9 8' → 'LS9 8'; None if not that shape."""
    if not text or len(text) > 16:
        return None
    spaced = " ".join(text.upper().split())
    compact = spaced.replace(" ", "")
    if compact == "GIR0AA":  # Girobank's postcode predates the pattern
        return "GIR 0AA"
    match = _FULL_RE.match(compact)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    if full_only:
        return None
    # A sector needs its space: "LS9 8" is sector 8 of LS9, "LS98" is the outcode LS98.
    if _SECTOR_RE.match(spaced):
        return spaced
    if _OUTCODE_RE.match(compact):
        return compact
    return None


def postcode_area(postcode: str) -> str:
    """The leading letters of a normalised postcode: 'LS9 8AB' → 'LS', 'M1 1AE' → 'M'."""
    return postcode[:2] if postcode[1:2].isalpha() else postcode[:1]


def find_postcode_in_text(text: str) -> str | None:
    """The first full postcode inside an address-like string ('2 Main St, Leeds LS9 8AB')."""
    match = _FULL_IN_TEXT_RE.search(text.upper())
    return f"{match.group(1)} {match.group(2)}" if match else None
