"""The console benchmark's pure parts: its organisation, contacts, pages and judging.

No servers are started and nothing is timed here.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from bench.baseline import baseline_page
from bench.console_contacts import plan_contacts
from bench.console_pages import bench_org, code_of, console_pages, contacts_listed, judge
from bench.harness import BenchError
from bench.national import SMALL, national
from helpline.contacts import CHANNELS, OUTCOMES
from rota.orgfile import dump_org, parse_org
from routing.access import console_scope
from routing.login import code_text

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_organisation_has_an_admin_and_a_koordinator_who_may_log_in() -> None:
    org, phones = bench_org(7, 2026)
    assert parse_org(dump_org(org)) == org  # what `helpline load` gets
    by_phone = {p.phone: p.id for p in org.people}
    admin = console_scope(org, by_phone[phones["admin"]])
    koordinator = console_scope(org, by_phone[phones["koordinator"]])
    assert admin is not None and admin.role == "admin"
    assert koordinator is not None and koordinator.role == "koordinator"
    assert koordinator.allows(org.kommuner[0].id)  # the pages' kommune, in both scopes
    assert not koordinator.allows(org.kommuner[-1].id)


def test_contacts_are_finished_valid_rows_of_the_past_year() -> None:
    org = national(3, SMALL)
    planned = plan_contacts(org, 500, NOW, random.Random(1), ("skole", "helse"))
    assert planned == plan_contacts(org, 500, NOW, random.Random(1), ("skole", "helse"))
    kommuner = {k.id for k in org.kommuner}
    assert len({tuple(sorted(p.row)) for p in planned}) == 1  # one executemany
    for p in planned:
        row = p.row
        assert row["channel"] in CHANNELS and row["outcome"] in OUTCOMES
        assert row["outcome"] != "in_progress" and row["kommune_id"] in kommuner
        started = row["started_at"]
        assert isinstance(started, datetime) and NOW - timedelta(days=365) <= started < NOW
        assert (row["answered_at"] is not None) == (row["outcome"] == "answered")
        assert row["caller_masked"] != row["caller"]
        if row["channel"] == "voice":
            assert p.attempts and [a["step"] for a in p.attempts] == list(range(len(p.attempts)))
            assert row["call_sid"] and row["ended_at"] is not None
        else:
            assert not p.attempts and row["closed_at"] is not None
    sids = [p.row["call_sid"] for p in planned if p.row["call_sid"]]
    assert len(sids) == len(set(sids))
    assert {p.row["channel"] for p in planned} == set(CHANNELS)


def test_contacts_need_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        plan_contacts(national(3, SMALL), 1, NOW.replace(tzinfo=None), random.Random(1))


def test_the_pages_and_how_an_answer_is_judged() -> None:
    org = national(3, SMALL)
    pages = {p.key: p for p in console_pages(org, date(2026, 12, 1))}
    assert pages["oversikt"].path == "/console/"
    assert pages["vaktplan"].path == (
        f"/console/vaktplan?plan=kommune%3A{org.kommuner[0].id}&vis=maned&dato=2026-12-01"
    )
    marker = pages["oversikt"].marker
    assert judge(200, '<h1 class="ds-heading">Oversikt</h1>', marker) == "ok"
    assert judge(200, '<h1 class="ds-heading">Fant ikke siden</h1>', marker) == "not the page"
    assert judge(200, '<h1 class="ds-heading">Logg inn</h1>', marker) == "login"
    assert judge(303, "", marker) == "login"
    assert judge(500, "", marker) == "HTTP 500"


def test_reading_the_page_and_the_login_sms() -> None:
    html = '<a href="/console/kontaktlogg/12">K12</a><a href="/console/kontaktlogg.csv">'
    assert contacts_listed(html) == 1
    assert code_of(code_text("042917")) == "042917"
    with pytest.raises(BenchError):
        code_of("Ingen kode her")


@pytest.mark.parametrize("size", [0, 100, 8_000, 296_281])
def test_the_baseline_page_has_the_size_asked_for(size: int) -> None:
    page = baseline_page(size)
    assert page.startswith(b"<!doctype html>") and page.endswith(b"</html>")
    assert len(page) == max(size, len(baseline_page(0)))
