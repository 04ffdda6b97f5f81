"""The scope of an API token: which kommuner's contacts a reader sees."""

from __future__ import annotations

from datetime import timedelta

import pytest

from routing.access import ADMIN, GrantError, Scope, grant_scope, token_lifetime

ASKER = Scope("koordinator", frozenset({"asker"}))
BOTH = Scope("koordinator", frozenset({"asker", "baerum"}))
NOTHING = Scope("koordinator")


@pytest.mark.parametrize(
    ("scope", "kommune", "allowed"),
    [
        (ADMIN, "asker", True),
        (ADMIN, "anywhere", True),
        (ADMIN, None, True),  # a contact with no kommune: only an admin sees it
        (ASKER, "asker", True),
        (ASKER, "baerum", False),
        (ASKER, None, False),
        (ASKER, "", False),
        (ASKER, "Asker", False),  # ids are exact
        (BOTH, "baerum", True),
        (NOTHING, "asker", False),  # a koordinator without kommuner sees nothing
        (NOTHING, None, False),
    ],
)
def test_allows(scope: Scope, kommune: str | None, allowed: bool) -> None:
    assert scope.allows(kommune) is allowed


@pytest.mark.parametrize(
    ("scope", "requested", "kommuner"),
    [
        (ADMIN, None, None),  # no restriction, contacts without kommune included
        (ADMIN, "asker", frozenset({"asker"})),
        (ADMIN, "nowhere", frozenset({"nowhere"})),
        (ASKER, None, frozenset({"asker"})),
        (ASKER, "asker", frozenset({"asker"})),
        (ASKER, "baerum", frozenset()),  # outside the scope: an empty list
        (BOTH, None, frozenset({"asker", "baerum"})),
        (BOTH, "baerum", frozenset({"baerum"})),
        (NOTHING, None, frozenset()),
    ],
)
def test_list_kommuner(scope: Scope, requested: str | None, kommuner: frozenset[str]) -> None:
    assert scope.list_kommuner(requested) == kommuner


KNOWN = ("asker", "baerum")


@pytest.mark.parametrize(
    ("role", "kommuner", "scope"),
    [
        ("admin", [], ADMIN),
        ("koordinator", ["asker"], ASKER),
        ("koordinator", ["baerum", "asker", "asker"], BOTH),
    ],
)
def test_grant_scope(role: str, kommuner: list[str], scope: Scope) -> None:
    assert grant_scope(role, kommuner, KNOWN) == scope


@pytest.mark.parametrize(
    ("role", "kommuner", "message"),
    [
        ("vakt", [], "unknown role 'vakt': expected one of admin, koordinator"),
        ("admin", ["asker"], "an admin token reads every kommune: give no --kommune"),
        ("koordinator", [], "a koordinator token needs one or more --kommune ID"),
        ("koordinator", ["asker", "oslo", "bergen"],
         "unknown kommune 'bergen', 'oslo': expected one of asker, baerum"),
    ],
)  # fmt: skip
def test_grant_scope_refuses(role: str, kommuner: list[str], message: str) -> None:
    with pytest.raises(GrantError) as raised:
        grant_scope(role, kommuner, KNOWN)
    assert str(raised.value) == message


def test_grant_scope_names_when_nothing_is_loaded() -> None:
    with pytest.raises(GrantError, match=r"expected one of \(none loaded\)"):
        grant_scope("koordinator", ["asker"], ())


@pytest.mark.parametrize(
    ("text", "lifetime"),
    [(None, timedelta(days=90)), ("90d", timedelta(days=90)), ("1d", timedelta(days=1)),
     ("12w", timedelta(weeks=12)), (" 30D ", timedelta(days=30)),
     ("365d", timedelta(days=365)), ("52w", timedelta(weeks=52))],
)  # fmt: skip
def test_token_lifetime(text: str | None, lifetime: timedelta) -> None:
    assert token_lifetime(text) == lifetime


@pytest.mark.parametrize(
    "text", ["0d", "366d", "53w", "9999d", "90", "3m", "1y", "-5d", "1.5d", "٣d", "", "d"]
)
def test_token_lifetime_refuses(text: str) -> None:
    with pytest.raises(GrantError, match="--expires-in"):
        token_lifetime(text)
