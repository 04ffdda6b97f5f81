"""Vaktplan over the app with a real database and Redis: the plan at a named instant,
overrides added and removed as new versions of the organisation, validation beside the
fields, scope (404 out of it), the coverage report and the access log."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import OrgVersionRow
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import MONDAY_10
from tests.integration.console_support import (
    KARI,
    NINA,
    SIRI,
    Client,
    access_entries,
    csrf_of,
    form_token,
    log_in,
    post_form,
)

pytestmark = pytest.mark.integration

PLAN = "/console/vaktplan"
ASKER = PLAN + "?plan=kommune:asker"
WEDNESDAY = {"from": "2026-11-25T08:00", "to": "2026-11-26T08:00"}  # Ingrid takes Ola's day
WEDNESDAY_10 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 in Oslo


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    client = await app_client(services)
    yield client
    await client.close()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def on_duty_section(html: str) -> str:
    found = re.search(r'<section aria-labelledby="on-duty-at".*?</section>', html, re.S)
    assert found, "no on-duty section"
    return text_of(found[0])


async def version(services: Services) -> int:
    loaded = await services.organisation()
    assert loaded is not None
    return loaded.version


async def primary(services: Services, kommune: str, at: datetime) -> str | None:
    services.forget_organisation()
    loaded = await services.organisation()
    assert loaded is not None
    return loaded.rota.on_duty(kommune, at)[0].person


async def add(client: Client, **fields: str) -> tuple[int, str, str]:
    token = await form_token(client, ASKER)
    form = {"csrf": token, "plan": "kommune:asker", "vis": "uke", "dato": "2026-11-23", **fields}
    response = await post_form(client, PLAN + "/overstyring", form)
    return response.status, response.headers.get("Location", ""), await response.text()


def error_beside(html: str, field_id: str) -> str:
    found = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    assert found, f"no error beside {field_id}"
    assert f'aria-describedby="{field_id}-error"' in html
    return found[1]


async def test_the_plan_names_who_is_on_duty_at_a_named_instant(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    response = await client.get(ASKER + "&at=2026-11-24T03:00")
    assert response.status == 200
    html = await response.text()
    loaded = await services.organisation()
    assert loaded is not None
    night = loaded.rota.on_duty("asker", datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    shown = on_duty_section(html)
    assert "På vakt 24.11.2026 03:00" in shown
    assert f"Primærvakt {night[0].name} Barnevernvakta Vest" in shown
    page = text_of(html)
    assert "Uke 48, 23.11.2026–29.11.2026" in page
    assert "Ingen hull i vaktplanen i perioden." in page
    day = loaded.rota.on_duty("asker", datetime(2026, 11, 24, 9, 0, tzinfo=UTC))[0]
    assert f"Primærvakt: {day.name}" in page
    assert ("console:kari", "console.vaktplan", "kommune:asker") in await access_entries(services)


async def test_a_month_marks_holidays_and_extra_days(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    html = await (await client.get(ASKER + "&vis=maned&dato=2026-12-10")).text()
    page = text_of(html)
    assert "Desember 2026" in page
    assert "Første juledag" in page and "Andre juledag" in page
    assert "Ekstra fridag" in page  # 24 and 31 December in the demo
    assert page.count("Forrige måned") == 1


async def test_an_override_is_live_at_once_as_a_new_console_version(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    before = await version(services)
    assert await primary(services, "asker", WEDNESDAY_10) == "ola"
    status, location, _ = await add(
        client,
        team="asker-bvt",
        person="ingrid",
        **WEDNESDAY,
    )
    assert status == 303 and "lagret=" in location and "dato=2026-11-25" in location
    assert await primary(services, "asker", WEDNESDAY_10) == "ingrid"
    assert await version(services) == before + 1
    async with services.sessions() as db:
        row = await db.scalar(select(OrgVersionRow).order_by(OrgVersionRow.version.desc()))
    assert row is not None and (row.origin, row.person_id) == ("console", "kari")
    assert row.summary == "override added: ingrid in asker-bvt 2026-11-25T08:00..2026-11-26T08:00"
    page = text_of(await (await client.get(location)).text())
    assert "Overstyringen er lagret" in page
    assert (
        "Ingrid Solberg tar vakten i Barnevernstjenesten i Asker"
        " 25.11.2026 08:00 – 26.11.2026 08:00" in page
    )


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        (
            {"team": "asker-bvt", "person": "ingrid", "from": "2026-11-26T08:00",
             "to": "2026-11-25T08:00"},
            "o-to",
            "Vakten må slutte etter at den begynner.",
        ),
        (
            {"team": "asker-bvt", "person": "nina", **WEDNESDAY},
            "o-person",
            "Personen er ikke med i dette teamet.",
        ),
        (
            {"team": "asker-bvt", "person": "ingrid", "from": "i morgen", "to": "2026-11-26T08:00"},
            "o-from",
            "Ugyldig tidspunkt. Skriv dato og klokkeslett, for eksempel 2026-12-24T08:00.",
        ),
        (
            {"team": "asker-bvt", "person": "", **WEDNESDAY},
            "o-person",
            "Velg hvem som tar vakten.",
        ),
        (  # out of scope: the same words as an unknown team
            {"team": "baerum-bvt", "person": "marte", **WEDNESDAY},
            "o-team",
            "Velg et team du har tilgang til.",
        ),
        (
            {"team": "no-such-team", "person": "ingrid", **WEDNESDAY},
            "o-team",
            "Velg et team du har tilgang til.",
        ),
    ],
)  # fmt: skip
async def test_an_invalid_override_changes_nothing_and_says_why_beside_the_field(
    client: Client, services: Services, fields: dict[str, str], field_id: str, message: str
) -> None:
    await log_in(client, services, KARI)
    before = await version(services)
    status, _, html = await add(client, **fields)
    assert status == 400
    assert error_beside(html, field_id) == message
    assert await version(services) == before
    assert await primary(services, "asker", WEDNESDAY_10) == "ola"


async def test_an_override_is_removed_as_a_new_version(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    await add(
        client,
        team="asker-bvt",
        person="ingrid",
        **WEDNESDAY,
    )
    html = await (await client.get(ASKER)).text()
    key = re.search(r'name="key" value="(asker-bvt\|ingrid\|[^"]+)"', html)
    assert key, "no remove button for the new override"
    response = await post_form(
        client,
        PLAN + "/overstyring/fjern",
        {"csrf": csrf_of(html), "key": key[1], "plan": "kommune:asker"},
    )
    assert response.status == 303 and "fjernet=" in response.headers["Location"]
    assert await primary(services, "asker", WEDNESDAY_10) == "ola"
    # Gone: removing it again is 404 like any missing override.
    response = await post_form(
        client,
        PLAN + "/overstyring/fjern",
        {"csrf": csrf_of(html), "key": key[1], "plan": "kommune:asker"},
    )
    assert response.status == 404


async def test_a_koordinator_gets_404_outside_their_kommuner(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    for path in (
        PLAN + "?plan=kommune:baerum",
        PLAN + "?plan=team:baerum-bvt",
        PLAN + "?plan=kommune:oslo",
        PLAN + "/dekning?plan=kommune:baerum",
    ):
        assert (await client.get(path)).status == 404, path
    # The shared barnevernvakt is read, not edited, by Asker's koordinator alone.
    html = await (await client.get(PLAN + "?plan=team:bvv-vest")).text()
    assert "Hilde Aas tar vakten i Barnevernvakta Vest" in text_of(html)
    assert 'name="key"' not in html
    key = "bvv-vest|hilde|2026-12-24T07:00:00+00:00|2026-12-27T07:00:00+00:00"
    response = await post_form(
        client, PLAN + "/overstyring/fjern", {"csrf": csrf_of(html), "key": key}
    )
    assert response.status == 404
    loaded = await services.organisation()
    assert loaded is not None and len(loaded.org.overrides) == 1


async def test_an_admin_edits_the_shared_barnevernvakt(client: Client, services: Services) -> None:
    await log_in(client, services, SIRI)
    html = await (await client.get(PLAN + "?plan=team:bvv-vest")).text()
    assert re.search(r'name="key" value="bvv-vest\|hilde\|', html)


async def test_a_vakt_reads_their_plan_and_own_duties_but_edits_nothing(
    client: Client, services: Services
) -> None:
    await log_in(client, services, NINA)
    html = await (await client.get(PLAN + "?plan=team:bvv-vest")).text()
    page = text_of(html)
    assert "Mine vakter de neste fire ukene" in page
    assert "Ny overstyring" not in page and 'name="key"' not in html
    before = await version(services)
    token = csrf_of(html)
    response = await post_form(
        client,
        PLAN + "/overstyring",
        {
            "csrf": token,
            "team": "bvv-vest",
            "person": "nina",
            "from": "2026-11-25T08:00",
            "to": "2026-11-26T08:00",
        },
    )
    assert response.status == 400
    assert await version(services) == before


async def test_the_coverage_report_balances_duty_hours(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    response = await client.get(PLAN + "/dekning?plan=team:asker-bvt")
    assert response.status == 200
    page = text_of(await response.text())
    assert "52 uker fra 23.11.2026 til og med 21.11.2027" in page
    assert "Ingen hull: 0 timer uten noen på vakt." in page
    for name in ("Kari Nordmann", "Ola Berg", "Ingrid Solberg"):
        assert name in page
    assert ("console:kari", "console.vaktplan.dekning", "team:asker-bvt") in await access_entries(
        services
    )


async def test_a_bad_instant_is_refused_beside_its_field(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    response = await client.get(ASKER + "&at=i+natt")
    assert response.status == 400
    assert error_beside(await response.text(), "at").startswith("Ugyldig tidspunkt")


async def test_gaps_are_marked_in_words_and_counted_in_the_report(
    client: Client, services: Services
) -> None:
    # Asker's weekday evenings lose their rule: 15:30-22:00 on weekdays is a gap.
    evening = '  { days = "weekday", from = "15:30", to = "22:00", team = "asker-bvt" },\n'
    text = demo_text()
    assert text.count(evening) == 1
    await load_text(services, text.replace(evening, "", 1), force=True)
    await log_in(client, services, KARI)
    html = await (await client.get(ASKER + "&dato=2026-11-23&at=2026-11-24T18:00")).text()
    page = text_of(html)
    assert "5 dager har hull i vaktplanen i perioden." in page
    assert page.count("15:30–22:00 Hull: ingen på vakt") == 5
    assert '<li class="slot gap">' in html
    shown = on_duty_section(html)
    assert "Hull: ingen på vakt i kommunen. Barnevernvakta får henvendelsene" in shown
    assert "Barnevernvakt Hilde Aas" in shown  # the barnevernvakt still answers
    report = text_of(await (await client.get(PLAN + "/dekning?plan=kommune:asker")).text())
    # 52 weeks of weekdays at 6.5 h, less the weekday holidays in the period.
    assert re.search(r"[0-9]+,[05] timer uten noen på vakt, fordelt på [0-9]+ hull", report)
