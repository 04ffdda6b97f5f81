"""Statistikk over the app with a real database and Redis: the counts equal what
`helpline contacts --json` reports for the same filter, the scope of a koordinator, the
list behind a cell (in the access log), the form's errors beside their fields, and a vakt
kept out."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, datetime
from statistics import median
from urllib.parse import urlencode

import pytest

from helpline.bootstrap import Services
from helpline.cli import build_parser
from helpline.commands.org import demo_text, load_text
from helpline.statistics import StatisticsFilter, contact_facts
from rota.wallclock import zone
from routing.access import ADMIN, Scope
from routing.statistics import Period, aggregate
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import MONDAY_10
from tests.integration.console_support import KARI, NINA, SIRI, Client, access_entries, log_in
from tests.integration.stats_world import seed_contacts

pytestmark = pytest.mark.integration

OSLO = zone("Europe/Oslo")
AUTUMN = Period(date(2026, 10, 1), date(2026, 12, 31))


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    await seed_contacts(services)
    client = await app_client(services)
    yield client
    await client.close()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def cli_contacts(
    services: Services, capsys: pytest.CaptureFixture[str], *argv: str
) -> list[dict[str, object]]:
    """What `helpline contacts --json ARGV` prints (the command's own code, awaited)."""
    args = build_parser().parse_args(["contacts", "--json", "--limit", "1000", *argv])
    capsys.readouterr()
    assert await args.handler(services.settings, args) == 0
    found: list[dict[str, object]] = json.loads(capsys.readouterr().out)["contacts"]
    return found


def local(contact: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(contact["started_at"])).astimezone(OSLO)


@pytest.mark.parametrize(("kommune", "scope"), [("asker", ADMIN), (None, ADMIN)])
async def test_the_counts_equal_the_contact_log_for_the_same_filter(
    client: Client,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    kommune: str | None,
    scope: Scope,
) -> None:
    logged = await cli_contacts(
        services, capsys, "--since", "2026-10-01", *(["--kommune", kommune] if kommune else [])
    )
    start, end = AUTUMN.bounds(OSLO)
    async with services.sessions() as session:
        facts = await contact_facts(session, StatisticsFilter(kommune, start, end), scope)
    stats = aggregate(facts, AUTUMN, OSLO)
    assert stats.total == len(logged) == (7 if kommune else 10)
    channels = Counter(c["channel"] for c in logged)
    assert dict(stats.channels) == {c: channels[c] for c in dict(stats.channels)}
    outcomes = Counter(c["outcome"] for c in logged)
    assert dict(stats.outcomes) == {o: outcomes[o] for o in dict(stats.outcomes)}
    assert stats.voicemails == outcomes["voicemail"]
    months = Counter(f"{local(c):%Y-%m}" for c in logged)
    assert {m.month: m.contacts for m in stats.months} == {
        m.month: months[m.month] for m in stats.months
    }
    cells = Counter((local(c).weekday(), local(c).hour) for c in logged)
    assert {(d, h): stats.heatmap[d][h] for d in range(7) for h in range(24)} == {
        (d, h): cells[(d, h)] for d in range(7) for h in range(24)
    }  # fmt: skip
    taken = [int(str(c["seconds_to_answer"])) for c in logged if c["seconds_to_answer"] is not None]
    assert stats.answer_times.count == len(taken)
    assert stats.answer_times.median == median(taken)
    calls = [c for c in logged if c["channel"] == "voice"]
    escalated_calls = sum(len(rung) > 1 for c in calls if isinstance(rung := c["attempts"], list))
    assert sum(f.escalated for f in facts if f.channel == "voice") == escalated_calls == 2


async def test_a_koordinator_sees_asker_only_and_the_page_says_the_numbers(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    response = await client.get(
        "/console/statistikk?" + urlencode({"fra": "2026-10-01", "til": "2026-11-30"})
    )
    assert response.status == 200
    html = await response.text()
    page = text_of(html)
    assert (
        "Alle dine kommuner, 01.10.2026–30.11.2026: 7 henvendelser , 4 eskalert, 1 talemeldinger"
        in page
    )
    assert "Bærum" not in page  # not in her list of kommuner either
    assert html.count('role="img"') == 6 and html.count("<caption") == 6
    assert '<title id="heat-title">Henvendelser etter ukedag og klokkeslett</title>' in html
    assert "Flest: mandag kl. 10–11 (2)." in page
    assert "Vakten tok henvendelsen etter 1 min (median), 15 min for 90 prosent." in page
    [entry] = [e for e in await access_entries(services) if e[1] == "console.statistikk"]
    assert entry[0] == "console:kari" and entry[2].startswith("kommune=*&from=2026-09-30T22:00:00")


async def test_a_cell_lists_its_contacts_and_the_read_is_logged(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    page = await (await client.get("/console/statistikk?fra=2026-10-01&til=2026-11-30")).text()
    links = re.findall(r'href="(/console/statistikk/kontakter\?[^"]+)"', page)
    monday_10 = next(link for link in links if "ukedag=1&amp;time=10" in link).replace("&amp;", "&")
    response = await client.get(monday_10)
    assert response.status == 200
    listed = text_of(await response.text())
    assert "Henvendelser: mandag, kl. 10" in listed and ": 2 henvendelser." in listed
    assert "Familien Hansen" in listed and "Familien Johansen" in listed
    assert "Familien Olsen" not in listed  # Bærum's Monday 10:10 call
    assert "Talemelding" in listed and "15 s" in listed
    [entry] = [e for e in await access_entries(services) if e[1] == "console.statistikk.kontakter"]
    assert entry[0] == "console:kari" and entry[2].endswith("&ukedag=1&time=10")


async def test_another_kommune_is_refused_like_an_unknown_one(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    answers = []
    for kommune in ("baerum", "oslo"):
        response = await client.get(f"/console/statistikk?kommune={kommune}")
        answers.append((response.status, text_of(await response.text())))
        listing = await client.get(f"/console/statistikk/kontakter?kommune={kommune}")
        assert listing.status == 400
    assert answers[0][0] == answers[1][0] == 400
    assert "Velg en av kommunene i lista." in answers[0][1]
    assert answers[0][1].replace("baerum", "oslo") == answers[1][1]
    assert not [e for e in await access_entries(services) if e[1].startswith("console.statistikk")]


async def test_an_admin_counts_both_kommuner_and_the_contact_with_none(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    page = text_of(
        await (await client.get("/console/statistikk?fra=2026-10-01&til=2026-11-30")).text()
    )
    assert ": 10 henvendelser" in page
    baerum = text_of(
        await (
            await client.get("/console/statistikk?kommune=baerum&fra=2026-10-01&til=2026-11-30")
        ).text()
    )
    assert "Bærum, 01.10.2026–30.11.2026: 2 henvendelser" in baerum


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("fra=2026-13-01", "fra", "Ugyldig dato."),
        ("fra=1.12.2026&til=1.11.2026", "til", "Til-datoen kan ikke være før fra-datoen."),
        ("fra=01.01.2020&til=2026-11-01", "til", "Perioden kan være høyst tre år."),
    ],
)
async def test_a_bad_period_shows_the_error_beside_its_field(
    client: Client, services: Services, query: str, field: str, message: str
) -> None:
    await log_in(client, services, KARI)
    response = await client.get("/console/statistikk?" + query)
    assert response.status == 400
    html = await response.text()
    assert f'id="{field}-error">{message}' in html and f'aria-describedby="{field}-error"' in html
    assert 'role="img"' not in html


async def test_typed_norwegian_dates_are_read(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    response = await client.get("/console/statistikk?fra=1.11.2026&til=30.11.2026")
    assert response.status == 200
    assert "01.11.2026–30.11.2026: 6 henvendelser" in text_of(await response.text())


async def test_a_vakt_is_kept_out_and_has_no_link_to_it(client: Client, services: Services) -> None:
    await log_in(client, services, NINA)
    overview = await (await client.get("/console/")).text()
    assert 'href="/console/statistikk"' not in overview and 'href="/console/grupper"' in overview
    for path in ("/console/statistikk", "/console/statistikk/kontakter"):
        response = await client.get(path)
        assert response.status == 403
        assert "Statistikken er for koordinatorer og administratorer." in await response.text()
    assert not [e for e in await access_entries(services) if e[1].startswith("console.statistikk")]


async def test_the_default_period_is_the_last_twelve_months(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    html = await (await client.get("/console/statistikk")).text()
    assert 'value="2025-12-01"' in html and 'value="2026-11-23"' in html
    assert "01.12.2025–23.11.2026: 4 henvendelser" in text_of(html)  # to 24.11 00:00
