"""SMS segments: GSM-7 (160, or 153 per part; æ ø å Æ Ø Å é are in it, € [ ] { } take two
septets) and UCS-2 (70, or 67 per part; an emoji takes two code units)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.broadcasts import STOP_FOOTER, TextError, body_for, check_text, sms_body
from routing.segments import GSM7_BASIC, GSM7_EXTENSION, Segments, segments
from tests.fakes.twilio_api import sms_segments

NORWEGIAN = "Hei! Nettverkstreff på Bærum kulturhus: ÆØÅ æøå é."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Segments("gsm7", 0, 1)),
        ("a" * 160, Segments("gsm7", 160, 1)),
        ("a" * 161, Segments("gsm7", 161, 2)),
        ("a" * 306, Segments("gsm7", 306, 2)),
        ("a" * 307, Segments("gsm7", 307, 3)),
        ("æøåÆØÅé" * 20, Segments("gsm7", 140, 1)),  # Norwegian letters stay GSM-7
        ("ø" * 160, Segments("gsm7", 160, 1)),
        ("€" * 80, Segments("gsm7", 160, 1)),  # the extension table counts two
        ("€" * 81, Segments("gsm7", 162, 2)),
        ("[]{}" * 20, Segments("gsm7", 160, 1)),
        ("a" * 159 + "€", Segments("gsm7", 161, 2)),
        # 152 septets, then a two-septet € that must not be split: it starts part two.
        ("a" * 152 + "€" + "a" * 152, Segments("gsm7", 306, 3)),
        ("😀", Segments("ucs2", 2, 1)),  # an emoji is two UTF-16 code units
        ("a" * 70, Segments("gsm7", 70, 1)),
        ("😀" + "a" * 68, Segments("ucs2", 70, 1)),
        ("😀" + "a" * 69, Segments("ucs2", 71, 2)),
        ("ä" * 69 + "ć", Segments("ucs2", 70, 1)),  # one character outside GSM-7 is enough
        ("\u201cHei\u201d" + "a" * 66, Segments("ucs2", 71, 2)),  # curly quotes are UCS-2
        ("a" * 134, Segments("gsm7", 134, 1)),
        ("ć" * 134, Segments("ucs2", 134, 2)),
        ("ć" * 135, Segments("ucs2", 135, 3)),
        # 66 units, then an emoji that does not fit the 67th: part two.
        ("ć" * 66 + "😀" + "ć" * 66, Segments("ucs2", 134, 3)),
        ("\t", Segments("ucs2", 1, 1)),  # a tab is not in GSM-7
    ],
)
def test_segments(text: str, expected: Segments) -> None:
    assert segments(text) == expected


ALPHABET = st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION) + ["😀", "ć", "\u201c"])


@given(st.text(alphabet=ALPHABET, max_size=500))
def test_no_split_character_means_at_most_one_part_more_than_the_plain_count(text: str) -> None:
    """The fake Twilio counts by plain division; a part never splitting a character can
    need one more, never fewer."""
    ours, plain = segments(text).count, sms_segments(text)
    assert plain <= ours <= plain + max(1, plain // 10)


def test_the_footer_is_counted() -> None:
    text = "a" * 130
    assert segments(text).count == 1
    assert sms_body(text).endswith("\n\n" + STOP_FOOTER)
    assert segments(body_for("sms", text)).count == 2
    assert body_for("telegram", text) == text
    assert segments(sms_body(NORWEGIAN)).encoding == "gsm7"


@pytest.mark.parametrize("text", ["", "   ", "\n", "hei\x00", "hei\x1b", "a" * 1600, "hei \ud800"])
def test_texts_a_broadcast_cannot_carry(text: str) -> None:
    with pytest.raises(TextError):
        check_text(text)


def test_texts_a_broadcast_can_carry() -> None:
    assert check_text(NORWEGIAN) == NORWEGIAN
    assert check_text("Linje 1\nLinje 2\tmed tab 😀") == "Linje 1\nLinje 2\tmed tab 😀"
