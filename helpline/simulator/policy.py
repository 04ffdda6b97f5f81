"""Who picks up when the simulator rings numbers: the answer policy (`--answer`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rota.phones import InvalidPhone, normalise_phone


class PolicyError(ValueError):
    """An answer policy that cannot be parsed; the message shows the grammar."""


class Reaction(StrEnum):
    """What a dialled number does when it rings."""

    NO_ANSWER = "no-answer"
    ACCEPT = "accept"  # picks up and presses ACCEPT_DIGIT when the screening asks
    DECLINE = "decline"  # picks up but presses nothing


ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
POLICY_GRAMMAR = (
    "POLICY is `none`, or comma-separated TERMs; TERM is [decline:]TARGET and TARGET is "
    "`all`, an ordinal (first..fifth: the Nth number rung in the call) or a phone number"
)


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    """Who picks up, and who accepts the screened call, when the simulator rings numbers.

    A number is looked up by itself first, then by its attempt (1 for the first number
    rung in the call, counting every `<Number>` of every `<Dial>` in order), then `all`.
    Nobody else answers. Build it with `parse` (the `--answer` grammar).
    """

    numbers: tuple[tuple[str, Reaction], ...] = ()
    attempts: tuple[tuple[int, Reaction], ...] = ()
    everyone: Reaction = Reaction.NO_ANSWER

    @classmethod
    def parse(cls, text: str) -> AnswerPolicy:
        """`none`, `all`, `first`, `second,+4791234567`, `decline:first,all`, ..."""
        terms = [term.strip() for term in text.split(",")]
        if [term.lower() for term in terms] == ["none"]:
            return cls()
        numbers: dict[str, Reaction] = {}
        attempts: dict[int, Reaction] = {}
        everyone: Reaction | None = None
        for term in terms:
            reaction, target = _split_term(term)
            if target == "all":
                everyone = _merge(everyone, reaction, term)
            elif target in ORDINALS:
                attempts[ORDINALS[target]] = _merge(attempts.get(ORDINALS[target]), reaction, term)
            else:
                number = _policy_phone(target, term)
                numbers[number] = _merge(numbers.get(number), reaction, term)
        return cls(
            numbers=tuple(sorted(numbers.items())),
            attempts=tuple(sorted(attempts.items())),
            everyone=everyone or Reaction.NO_ANSWER,
        )

    def reaction(self, number: str, attempt: int) -> Reaction:
        """What `number`, rung as the `attempt`-th number of the call, does."""
        by_number = dict(self.numbers).get(canonical_phone(number))
        if by_number is not None:
            return by_number
        return dict(self.attempts).get(attempt, self.everyone)


def canonical_phone(text: str) -> str:
    """E.164 when `text` is a valid number, else `text` stripped (the service may dial junk)."""
    try:
        return normalise_phone(text)
    except InvalidPhone:
        return text.strip()


def _split_term(term: str) -> tuple[Reaction, str]:
    reaction = Reaction.ACCEPT
    head, colon, rest = term.partition(":")
    if colon:
        if head.strip().lower() != "decline":
            raise PolicyError(f"unknown term {term!r}: {POLICY_GRAMMAR}")
        reaction, term = Reaction.DECLINE, rest.strip()
    if not term:
        raise PolicyError(f"empty term in the answer policy: {POLICY_GRAMMAR}")
    lowered = term.lower()
    if lowered == "none":
        raise PolicyError(f"`none` cannot be combined with other terms: {POLICY_GRAMMAR}")
    return reaction, lowered if lowered == "all" or lowered in ORDINALS else term


def _policy_phone(target: str, term: str) -> str:
    try:
        return normalise_phone(target)
    except InvalidPhone:
        raise PolicyError(
            f"{term!r} is neither a keyword nor a phone number: {POLICY_GRAMMAR}"
        ) from None


def _merge(old: Reaction | None, new: Reaction, term: str) -> Reaction:
    if old is not None and old is not new:
        raise PolicyError(f"{term!r} contradicts an earlier term for the same target")
    return new
