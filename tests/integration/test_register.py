"""The organisation register on a real database (SQLite, or PostgreSQL in CI)."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.commands.run import ready_to_serve
from helpline.db import models as m
from helpline.db.register import calendar_feeds, read_organisation
from rota.model import QuietHours
from rota.orgfile import OrgFileError, dump_org, parse_org

pytestmark = pytest.mark.integration


async def test_register_gives_back_the_organisation_it_was_given(services: Services) -> None:
    version = await load_text(services, demo_text())
    async with services.sessions() as session:
        stored = await read_organisation(session)
    assert version == 1
    assert stored == parse_org(demo_text())


async def test_times_come_back_aware_in_utc(services: Services) -> None:
    await load_text(services, demo_text())
    async with services.sessions() as session:
        stored = await read_organisation(session)
        meta = await session.scalar(select(m.OrgMeta))
    assert stored is not None and meta is not None
    assert meta.loaded_at == services.clock()
    instants = [r.start for r in stored.rotations] + [o.start for o in stored.overrides]
    assert instants
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in instants)
    christmas = stored.overrides[0]
    assert christmas.start == datetime(2026, 12, 24, 7, 0, tzinfo=UTC)  # 08:00 in Oslo


async def test_naive_datetimes_are_refused(services: Services) -> None:
    async with services.sessions() as session:
        naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
        session.add(m.CalendarFeedRow(token_hash="t", kind="team", target_id="x", created_at=naive))
        with pytest.raises(Exception, match="naive datetime refused"):
            await session.flush()


async def test_a_broken_file_changes_nothing(services: Services) -> None:
    await load_text(services, demo_text())
    broken = demo_text().replace('kind = "barnevernvakt"', 'kind = "vakt"', 1)
    with pytest.raises(OrgFileError, match="field 'kind'"):
        await load_text(services, broken)
    loaded = await services.organisation()
    assert loaded is not None and loaded.version == 1
    assert loaded.org == parse_org(demo_text())


async def test_calendar_tokens_survive_a_reload_and_follow_the_register(
    services: Services,
) -> None:
    await load_text(services, demo_text())
    async with services.sessions() as session:
        before = await calendar_feeds(session)
    org = parse_org(demo_text())
    gone = org.people[-1]
    smaller = demo_text().replace(f'id = "{gone.id}"', 'id = "zz-removed"', 1)
    version = await load_text(services, smaller.replace(f'"{gone.id}"', '"zz-removed"'))
    async with services.sessions() as session:
        after = await calendar_feeds(session)
    assert version == 2
    assert ("person", gone.id) in before and ("person", gone.id) not in after
    hashes_before = {key: row.token_hash for key, row in before.items()}
    hashes_after = {key: row.token_hash for key, row in after.items()}
    assert hashes_after[("person", "zz-removed")] != hashes_before[("person", gone.id)]
    kept = set(before) - {("person", gone.id)}
    assert {key: hashes_after[key] for key in kept} == {key: hashes_before[key] for key in kept}
    assert len({*hashes_after.values()}) == len(after)  # every token distinct


async def test_the_rota_index_is_rebuilt_only_for_a_new_version(services: Services) -> None:
    await load_text(services, demo_text())
    first = await services.organisation()
    again = await services.organisation()
    await load_text(services, demo_text())
    third = await services.organisation()
    assert first is again
    assert third is not None and first is not None
    assert third.version == first.version + 1 and third.rota is not first.rota


async def test_serve_loads_the_org_file_and_keeps_the_last_good_one_when_broken(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good, broken = tmp_path / "org.toml", tmp_path / "broken.toml"
    good.write_text(demo_text(), encoding="utf-8")
    broken.write_text(demo_text().replace('kind = "kommune"', 'kind = "skole"', 1))
    await ready_to_serve(replace(services, settings=replace(services.settings, org_file=good)))
    loaded = await services.organisation()
    assert loaded is not None and loaded.version == 1
    await ready_to_serve(replace(services, settings=replace(services.settings, org_file=broken)))
    still = await services.organisation()
    assert still is not None and still.version == 1
    assert "HELPLINE_ORG_FILE not loaded" in caplog.text and "field 'kind'" in caplog.text


async def test_groups_and_the_network_settings_come_back_as_loaded(services: Services) -> None:
    org = parse_org(demo_text())
    assert org.groups and org.helpline.network_number  # the demo has both
    variant = replace(
        org,
        helpline=replace(
            org.helpline,
            network_number=None,
            ressursfamilie_size=2,
            quiet_hours=QuietHours(time(22, 30), time(6, 45)),
        ),
        groups=(
            replace(org.groups[0], members=(), staff=org.groups[0].staff[::-1]),
            replace(org.groups[1], members=org.groups[1].members[::-1]),
        ),
    )
    for version, expected in enumerate([org, variant, org], 1):
        assert await load_text(services, dump_org(expected)) == version
        async with services.sessions() as session:
            assert await read_organisation(session) == expected


async def test_serve_logs_the_warnings_of_the_org_file(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    big = tmp_path / "big.toml"
    big.write_text(demo_text().replace("ressursfamilie_size = 5", "ressursfamilie_size = 1"))
    await ready_to_serve(replace(services, settings=replace(services.settings, org_file=big)))
    [warning] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert warning.getMessage() == (
        "HELPLINE_ORG_FILE: group 'asker-rf-nilsen': field 'members': 3 foster homes are linked"
        " to this ressursfamilie, more than ressursfamilie_size (1)"
    )
