"""`/api/events...` end to end: made, invited, answered, shown and counted through the API
under token scopes (a koordinator sees only its kommuner; out of scope answers 404 like
missing), with the reads in the access log."""

from __future__ import annotations

import pytest

from tests.e2e.api_setup import ADMIN_TOKEN, ASKER_TOKEN, access_log, add_token, auth
from tests.e2e.invitation_world import PHONES, World, world
from tests.unit.rota_fixtures import oslo

pytestmark = pytest.mark.e2e
__all__ = ["world"]

EVENT = {
    "kind": "fosterhjemskafe",
    "title": "Fosterhjemskafé i Asker",
    "starts": "2026-12-10T18:00",
    "ends": "2026-12-10T20:00",
    "place": "Asker bibliotek",
    "capacity": 10,
    "rsvp_by": "2026-12-06T00:00+01:00",
    "audience": "kommune:asker",
}


async def test_events_through_the_api_under_scopes(world: World) -> None:
    await add_token(world.services, "asker-kari", ASKER_TOKEN, role="koordinator", kommuner="asker")
    post = world.client.post
    made = await post("/api/events", json=EVENT, headers=auth(ASKER_TOKEN))
    assert made.status == 201
    event_id = (await made.json())["id"]
    baerum = await post(
        "/api/events", json={**EVENT, "audience": "kommune:baerum"}, headers=auth(ASKER_TOKEN)
    )
    assert baerum.status == 404  # outside the scope: like a kommune that does not exist
    other = await post(
        "/api/events", json={**EVENT, "audience": "kommune:baerum"}, headers=auth(ADMIN_TOKEN)
    )
    other_id = (await other.json())["id"]
    invited = await post(f"/api/events/{event_id}/invite", headers=auth(ASKER_TOKEN))
    assert (invited.status, (await invited.json())["invited"]) == (200, 4)
    await world.send_all()
    await world.sms(PHONES["hansen"][0], f"JA {event_id} 2")
    listed = await world.client.get("/api/events", headers=auth(ASKER_TOKEN))
    assert [e["id"] for e in (await listed.json())["events"]] == [event_id]
    for path in (f"/api/events/{other_id}", f"/api/events/{other_id + 100}"):
        missing = await world.client.get(path, headers=auth(ASKER_TOKEN))
        assert missing.status == 404
    cancel = await post(f"/api/events/{other_id}/cancel", headers=auth(ASKER_TOKEN))
    assert cancel.status == 404
    shown = await (
        await world.client.get(f"/api/events/{event_id}", headers=auth(ASKER_TOKEN))
    ).json()
    assert (shown["invited"], shown["yes"], shown["people_yes"], shown["no_answer"]) == (4, 1, 2, 3)
    assert shown["answers"][0]["foster_home"] == "hansen"
    assert ("api:asker-kari", "api", "event.read", str(event_id)) in await access_log(
        world.services
    )
    past = await post(f"/api/events/{event_id}/change", json={"starts": "2026-11-01T18:00"},
                      headers=auth(ASKER_TOKEN))  # fmt: skip
    assert past.status == 409
    bad = await post(f"/api/events/{event_id}/change", json={"capacity": True},
                     headers=auth(ASKER_TOKEN))  # fmt: skip
    assert bad.status == 400
    moved = await post(f"/api/events/{event_id}/change", json={"place": "Asker kulturhus"},
                       headers=auth(ASKER_TOKEN))  # fmt: skip
    assert (await moved.json())["told"] == 1
    world.clock.now = oslo(2026, 12, 10, 21)
    present = await post(f"/api/events/{event_id}/attendance", json={"present": ["hansen"]},
                         headers=auth(ASKER_TOKEN))  # fmt: skip
    assert (await present.json())["attended"] == 1
    stats = await world.client.get("/api/events/stats?from=2026-12-01", headers=auth(ASKER_TOKEN))
    assert (await stats.json())["kommuner"] == [
        {"kommune": "asker", "month": "2026-12", "events": 1, "invited": 4, "yes": 1,
         "people_yes": 2, "attended": 1},
    ]  # fmt: skip
