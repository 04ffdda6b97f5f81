"""The Register's pure parts: the import's preview (rota.orgdiff), single-entry edits
through the loader (rota.edits), who sees which entries (routing.register_scope), the
loader's errors in Norwegian, and a simulated call's events per phone."""

from __future__ import annotations

from dataclasses import replace

import pytest

from helpline.commands.org import demo_text
from helpline.web.console.orgfile_nb import GENERAL_LEAD, entry_name, lead
from helpline.web.console.simulator_view import call_events, phones, service_lines
from rota.edits import new_id, split_phones, with_foster_home, without_foster_home
from rota.model import FosterHome
from rota.orgdiff import diff_orgs
from rota.orgfile import OrgFileError, parse_org
from routing.access import ADMIN, Scope
from routing.register_scope import has_register, may_load_files, search, visible_register

DEMO = parse_org(demo_text())
ASKER = Scope("koordinator", frozenset({"asker"}))


def test_a_diff_lists_added_removed_and_changed_entries_per_section() -> None:
    homes = tuple(
        replace(h, name="Familien Haug") if h.id == "haugen" else h
        for h in DEMO.foster_homes
        if h.id != "olsen"
    ) + (FosterHome("moen", "Familien Moen", "asker", ("+4790001122",)),)
    new = replace(DEMO, foster_homes=homes)
    diffs = {d.section: d for d in diff_orgs(DEMO, new)}
    home = diffs["foster_home"]
    assert [c.label for c in home.added] == ["moen (Familien Moen)"]
    assert [c.label for c in home.removed] == ["olsen (Familien Olsen)"]
    assert [c.label for c in home.changed] == ["haugen (Familien Haug)"]
    assert all(d.empty for s, d in diffs.items() if s != "foster_home")
    assert all(d.empty for d in diff_orgs(DEMO, DEMO))


def test_a_diff_against_an_empty_register_adds_everything() -> None:
    diffs = {d.section: d for d in diff_orgs(None, DEMO)}
    assert len(diffs["foster_home"].added) == len(DEMO.foster_homes)
    assert diffs["helpline"].added and not diffs["helpline"].changed


def test_an_edit_goes_through_the_loader() -> None:
    fields = {"name": "Familien Hansen", "kommune": "asker", "phones": ["987 65 432", "12"]}
    with pytest.raises(OrgFileError) as raised:
        with_foster_home(DEMO, "hansen", fields)
    ((error),) = raised.value.errors
    assert (error.entry, error.field) == ("foster_home 'hansen'", "phones")
    fields["phones"] = ["987 65 432"]
    edited = with_foster_home(DEMO, "hansen", fields)
    (hansen,) = [h for h in edited.foster_homes if h.id == "hansen"]
    assert hansen.phones == ("+4798765432",)  # normalised as the file loader does
    added = with_foster_home(DEMO, "moen", {**fields, "phones": ["900 01 122"]})
    assert added.foster_homes[-1].id == "moen" and added.groups == DEMO.groups


def test_a_home_in_a_group_cannot_leave_the_register() -> None:
    with pytest.raises(OrgFileError) as raised:
        without_foster_home(DEMO, "hansen")
    assert raised.value.errors[0].entry == "group 'asker-rf-nilsen'"
    added = with_foster_home(
        DEMO, "moen", {"name": "Familien Moen", "kommune": "asker", "phones": ["90001122"]}
    )
    assert without_foster_home(added, "moen") == DEMO


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("Familien Bråten", set(), "familien-braten"),
        ("Familien Øie-Ås", set(), "familien-oie-as"),
        ("Familien Berg", {"familien-berg"}, "familien-berg-2"),
        ("  ", set(), "fosterhjem"),
    ],
)
def test_new_ids_are_made_from_names(name: str, taken: set[str], expected: str) -> None:
    assert new_id(name, taken) == expected


def test_phones_are_split_by_commas_and_lines() -> None:
    assert split_phones("987 65 432, 987 65 433\n;  ") == ["987 65 432", "987 65 433"]


def test_who_sees_the_register() -> None:
    assert has_register(ADMIN) and has_register(ASKER)
    assert not has_register(Scope("vakt", frozenset({"asker"})))
    assert may_load_files(ADMIN) and not may_load_files(ASKER)
    view = visible_register(DEMO, ASKER)
    assert [k.id for k in view.kommuner] == ["asker"]
    assert [t.id for t in view.teams] == ["asker-bvt", "bvv-vest"]
    assert "marte" not in {p.id for p in view.people} and "siri" not in {p.id for p in view.people}
    assert {h.kommune for h in view.foster_homes} == {"asker"}
    assert [g.id for g in view.groups] == ["asker-rf-nilsen"]
    assert visible_register(DEMO, Scope("vakt", frozenset({"asker"}))).count == 0
    assert "siri" in {p.id for p in visible_register(DEMO, ADMIN).people}


def test_search_looks_at_names_ids_and_digits() -> None:
    view = visible_register(DEMO, ADMIN)
    assert [h.id for h in search(view, "987 65").foster_homes] == ["hansen"]
    assert [p.id for p in search(view, "KARI").people] == ["kari"]
    assert search(view, "98").count == 0  # two digits are too few for numbers
    assert search(view, "") == view


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("not a valid phone number: '12'", "Ugyldig telefonnummer."),
        ("not a phone number: 'abc'", "Ugyldig telefonnummer."),
        ("unknown kommune 'barum' (did you mean 'baerum'?)", "Ukjent kommune."),
        ("unknown team kind 'x': expected ...", "Ukjent type team."),
        ("must list at least one phone number", "Skriv minst ett telefonnummer."),
        ("must list at least one foster_home", "Må ha minst én."),
        ("invalid date and time 'x': expected ...", "Ugyldig tidspunkt. Skriv ÅÅÅÅ-MM-DDTTT:MM."),
        ("+47•••••766 already belongs to foster_home 'olsen'",
         "Nummeret tilhører allerede et annet fosterhjem."),
        ("something new", GENERAL_LEAD),
    ],
)  # fmt: skip
def test_loader_errors_get_a_norwegian_lead(message: str, expected: str) -> None:
    assert lead(message) == expected


def test_entry_names_are_norwegian() -> None:
    assert entry_name("foster_home 'hansen'") == "fosterhjem 'hansen'"
    assert entry_name("coverage 'asker' rule 2") == "dekning 'asker' rule 2"


def test_the_phones_of_a_koordinator() -> None:
    shown = {p.slug: p for p in phones(DEMO, ASKER)}
    assert {"fh-hansen-1", "fh-hansen-2", "p-ola", "p-hilde", "t-bvv-vest"} <= set(shown)
    assert "fh-olsen-1" not in shown and "reserve" not in shown and "p-siri" not in shown
    assert shown["fh-hansen-2"].subtitle == "Fosterhjem i Asker, telefon 2"
    admin = {p.slug for p in phones(DEMO, ADMIN)}
    assert {"reserve", "p-siri", "fh-olsen-1"} <= admin
    assert [line.number for line in service_lines(DEMO)] == [
        "+4767000001", "+4767000002", "+4767000090", "+4767000091",
    ]  # fmt: skip


def test_a_call_transcript_becomes_events_on_the_phones() -> None:
    lines = [
        "call from +4798765432 to +4767000001",
        'caller hears (nb-NO, Polly.Liv): "Du ringer Fosterhjemstelefonen."',
        "ringing +4791234568 (timeout 20 s)",
        "+4791234568 picks up",
        '+4791234568 hears (nb-NO, Polly.Liv): "Familien Hansen ringer. Trykk 1."',
        "+4791234568 presses 1",
        "caller connected to +4791234568 (talk 60 s, then +4791234568 hangs up)",
        "dial result: DialCallStatus=completed",
        "call ended (completed, 70 s)",
    ]
    assert call_events("+4798765432", lines) == [
        ("+4798765432", "Du ringer +4767000001."),
        ("+4798765432", "Du hører: «Du ringer Fosterhjemstelefonen.»"),
        ("+4791234568", "Telefonen ringer: et anrop fra hjelpetelefonen."),
        ("+4791234568", "Du tar telefonen."),
        ("+4791234568", "Du hører: «Familien Hansen ringer. Trykk 1.»"),
        ("+4791234568", "Du trykker 1."),
        ("+4798765432", "Du er koblet til +4791234568."),
        ("+4791234568", "Du er koblet til innringeren."),
        ("+4798765432", "Samtalen er slutt."),
    ]
