"""The service whole under faults: `helpline serve` and `helpline worker` on PostgreSQL
and Redis through fault proxies, calls and messages flowing throughout, every webhook
delivered twice at once; each test counts what went in and what came out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.faults.audit import audit
from tests.faults.rig import Rig, fault_rig

pytestmark = pytest.mark.faults


@pytest.fixture
async def rig(stores: tuple[str, str], tmp_path: Path) -> AsyncIterator[Rig]:
    async with fault_rig(*stores, tmp_path, homes=200, twice=True) as running:
        yield running


async def test_every_webhook_twice_at_once_gives_one_contact_and_one_notification(
    rig: Rig,
) -> None:
    await rig.traffic(seconds=6, every_s=0.3)
    counts = await audit(rig)
    print(counts)
    assert counts.calls_made >= 10 and counts.by_rota == counts.calls_made
    assert counts.messages_in >= 10
    assert counts.notifications_out == counts.messages_in
    assert (counts.lost, counts.doubled) == (0, 0), counts
