"""A long-running process keeps its loaded organisation out of full garbage collections.

Found by bench.console: with the national organisation loaded, every full collection
walked its ~200,000 objects (about 100 ms) inside whichever console request set it off,
and the pages' p99 missed 100 ms. `serve` and `worker` open their services with
`freeze_loaded`, so a newly loaded version is moved to the permanent generation.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text

pytestmark = pytest.mark.integration


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite collects as usual


def _collected(obj: object) -> bool:
    """Whether `obj` is in a generation full collections walk (not the permanent one)."""
    return any(o is obj for o in gc.get_objects())


async def test_a_freezing_process_moves_a_new_version_out_of_full_collections(
    services: Services, thawed: None
) -> None:
    services.freeze_loaded = True
    await load_text(services, demo_text())
    loaded = await services.organisation()
    assert loaded is not None
    assert not _collected(loaded) and not _collected(loaded.rota)
    await load_text(services, demo_text().replace("Kari Nordmann", "Kari Nordkvinne"))
    newer = await services.organisation()
    assert newer is not None and newer.version > loaded.version
    assert not _collected(newer) and not _collected(newer.rota)


async def test_other_processes_leave_the_collector_alone(services: Services, thawed: None) -> None:
    await load_text(services, demo_text())
    loaded = await services.organisation()
    assert loaded is not None
    assert _collected(loaded) and gc.get_freeze_count() == 0
