"""What staff and foster parents text to the helpline number, parsed into commands.

Staff grammar (case-insensitive, tolerant of spaces; the `#` is required so that ordinary
text is never taken for a command):

* `#K7 din tekst`         -> `Reply("K7", "din tekst")`
* `#K7 LUKK kategori`     -> `Close("K7", "kategori")`, or `UnknownCategory` with the list
* `#K7 JA` / `#K7 TAR`    -> `Take("K7")`: take it without sending anything
* `din tekst`             -> `Bare("din tekst")`: for the sender's only open conversation
* `STOPP`                 -> `Stop()`
* anything malformed      -> `ParseError` carrying a short Norwegian help text

Parsing never raises: garbage gets a help text and changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from routing import message_texts

DEFAULT_CATEGORIES: tuple[str, ...] = (
    "samvær",
    "skole",
    "helse",
    "atferd",
    "økonomi",
    "akutt",
    "annet",
)

#: Longer codes are refused rather than turned into huge integers.
MAX_CODE_DIGITS = 12
#: Contact ids are 32-bit database keys: a larger code names no conversation.
MAX_CONTACT_ID = 2**31 - 1

_CODE = re.compile(r"#\s*[kK]\s*([0-9]+)[\s:,]*")
_WHOLE_CODE = re.compile(r"#?\s*[kK]\s*([0-9]+)")
_CLOSE = re.compile(r"lukk\b[\s:,.\-]*(.*)", re.IGNORECASE | re.DOTALL)
_TAKE_WORDS = frozenset({"ja", "tar", "jeg tar", "tar den", "jeg tar den"})
_STOP_WORDS = frozenset({"stopp", "stop"})
# Ascii spellings of æ, ø and å, folded to one form: samvær = samvaer = samvar.
_ASCII_FORMS = (("æ", "a"), ("ø", "o"), ("å", "a"), ("ae", "a"), ("oe", "o"), ("aa", "a"))


@dataclass(frozen=True, slots=True)
class Reply:
    """Send `text` to the foster parent of conversation `code` (and take it)."""

    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Close:
    """Close conversation `code` with `category`, spelled as in the configured list."""

    code: str
    category: str


@dataclass(frozen=True, slots=True)
class Take:
    """Take conversation `code` (responsibility for it) without sending anything."""

    code: str


@dataclass(frozen=True, slots=True)
class Bare:
    """Text without a code: for the sender's only open conversation.

    From a foster parent: their message, stripped (empty for a picture-only MMS)."""

    text: str


@dataclass(frozen=True, slots=True)
class Stop:
    """`STOPP`: no more group messages (foster parents); never relayed as an answer."""


@dataclass(frozen=True, slots=True)
class UnknownCategory:
    """`#K7 LUKK x` with `x` not in the list (or missing): nothing is closed."""

    code: str
    given: str
    categories: tuple[str, ...]

    @property
    def help(self) -> str:
        return message_texts.unknown_category(self.code, self.given, self.categories)


@dataclass(frozen=True, slots=True)
class ParseError:
    """Malformed: nothing is sent; `help` tells the sender how to write it."""

    code: str | None
    help: str


StaffCommand = Reply | Close | Take | Bare | Stop | UnknownCategory | ParseError
FosterCommand = Bare | Stop


def short_code(contact_id: int) -> str:
    """The code staff use for a contact: `K` and its id."""
    return f"K{contact_id}"


def parse_code(text: str) -> str | None:
    """`"#k 7"`, `"K7"` or `" #K007 "` -> `"K7"`; None when `text` is not just a code."""
    match = _WHOLE_CODE.fullmatch(text.strip())
    return _normal_code(match.group(1)) if match else None


def code_contact_id(code: str) -> int | None:
    """The contact id behind a code (`"K7"` -> 7), or None when it is not a code."""
    normal = parse_code(code)
    return int(normal[1:]) if normal else None


def parse_staff(text: str, categories: Sequence[str] = DEFAULT_CATEGORIES) -> StaffCommand:
    """What a staff member's SMS to the helpline number asks for; never raises."""
    stripped = text.strip()
    if _fold(stripped) in _STOP_WORDS:
        return Stop()
    if not stripped:
        return ParseError(None, message_texts.empty_message())
    if not stripped.startswith("#"):
        return Bare(stripped)
    match = _CODE.match(stripped)
    code = _normal_code(match.group(1)) if match else None
    if match is None or code is None:
        return ParseError(None, message_texts.missing_code())
    rest = stripped[match.end() :].strip()
    if not rest:
        return ParseError(code, message_texts.missing_text(code))
    close = _CLOSE.fullmatch(rest)
    if close is not None:
        return _close(code, close.group(1), categories)
    if _fold(rest) in _TAKE_WORDS:
        return Take(code)
    return Reply(code, rest)


def parse_foster_parent(text: str) -> FosterCommand:
    """What a foster parent's message is: `STOPP`, or a message for the conversation."""
    stripped = text.strip()
    return Stop() if _fold(stripped) in _STOP_WORDS else Bare(stripped)


def match_category(given: str, categories: Sequence[str]) -> str | None:
    """The category in `categories` that `given` names (any case, ascii forms of æøå)."""
    key = _category_key(given)
    return next((c for c in categories if _category_key(c) == key), None) if key else None


def _close(code: str, given: str, categories: Sequence[str]) -> Close | UnknownCategory:
    category = match_category(given, categories)
    if category is None:
        return UnknownCategory(code, " ".join(given.split()), tuple(categories))
    return Close(code, category)


def _normal_code(digits: str) -> str | None:
    if len(digits) > MAX_CODE_DIGITS or int(digits) > MAX_CONTACT_ID:
        return None
    return short_code(int(digits))


def _fold(text: str) -> str:
    """Case, width and spacing folded, end punctuation dropped: for keyword matching."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(normal.split()).strip(" .,!?:;")


def _category_key(text: str) -> str:
    key = _fold(text)
    for letter, ascii_form in _ASCII_FORMS:
        key = key.replace(letter, ascii_form)
    return key
