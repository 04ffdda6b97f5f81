"""SMS segments, as the network bills and paces them. Pure.

A message whose every character is in GSM 03.38 (the basic set, where æ ø å Æ Ø Å é are,
and the extension set, whose characters take two septets: € [ ] { } and a few more) is
sent as GSM-7: 160 septets in one segment, or 153 per part of a longer message. Any other
character (an emoji, a curly quote) makes the whole message UCS-2: 70 UTF-16 code units,
or 67 per part, an emoji outside the BMP counting two. A part never splits a two-unit
character, so a long message can need one part more than a plain division says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["gsm7", "ucs2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_LIMITS: dict[Encoding, tuple[int, int]] = {"gsm7": (160, 153), "ucs2": (70, 67)}


@dataclass(frozen=True, slots=True)
class Segments:
    """How a message is sent: its encoding, its length in septets (GSM-7) or UTF-16 code
    units (UCS-2), and how many segments it takes."""

    encoding: Encoding
    units: int
    count: int


def is_gsm7(text: str) -> bool:
    """Can `text` be sent as GSM-7?"""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _units(char: str, encoding: Encoding) -> int:
    if encoding == "gsm7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair in UTF-16


def segments(text: str) -> Segments:
    """The encoding and segment count of `text` (an empty text is one segment)."""
    encoding: Encoding = "gsm7" if is_gsm7(text) else "ucs2"
    sizes = [_units(char, encoding) for char in text]
    single, part = _LIMITS[encoding]
    units = sum(sizes)
    if units <= single:
        return Segments(encoding, units, 1)
    count, used = 1, 0
    for size in sizes:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return Segments(encoding, units, count)
