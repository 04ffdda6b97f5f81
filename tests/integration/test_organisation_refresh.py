"""The organisation in a long-running process (`Services.refreshing_organisation`, as
`helpline serve` and `helpline worker` run it): no caller waits on the register's version,
and a load by another process still shows within about a second."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import event

from helpline.bootstrap import ORG_CHECK_INTERVAL, Services
from helpline.commands.org import demo_text, load_text


@contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    sent: list[str] = []

    def listener(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        sent.append(sql)

    event.listen(services.engine.sync_engine, "before_cursor_execute", listener)
    try:
        yield sent
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", listener)


async def test_a_caller_never_reads_the_version_while_the_refresh_runs(
    services: Services,
) -> None:
    await load_text(services, demo_text())
    async with services.refreshing_organisation():
        first = await services.organisation()
        await asyncio.sleep(ORG_CHECK_INTERVAL * 1.5)  # past the interval a caller read at
        with statements(services) as sent:
            later = [await services.organisation() for _ in range(20)]
        assert sent == [] and all(loaded is first for loaded in later)


async def test_a_load_by_another_process_shows_and_forgetting_looks_at_once(
    services: Services,
) -> None:
    await load_text(services, demo_text())
    other = replace(services)  # another process's services: its own cache
    async with services.refreshing_organisation():
        first = await services.organisation()
        assert first is not None
        await load_text(other, demo_text())
        for _ in range(50):  # the background refresh picks it up, bounded
            loaded = await services.organisation()
            if loaded is not None and loaded.version == first.version + 1:
                break
            await asyncio.sleep(ORG_CHECK_INTERVAL / 10)
        assert loaded is not None and loaded.version == first.version + 1
        await load_text(other, demo_text())
        services.forget_organisation()
        now = await services.organisation()
        assert now is not None and now.version == first.version + 2


async def test_a_caller_that_gives_up_leaves_the_load_running_for_the_next(
    services: Services,
) -> None:
    """Under load a cold process's first read of the register can outlast a voice step's
    timeout; were it cancelled with the caller, every call would start it over and none
    would finish it."""
    await load_text(services, demo_text())
    cold = replace(services, _loaded=None)  # a process that has not read it yet
    cold.forget_organisation()
    reading = asyncio.Event()
    event.listen(cold.engine.sync_engine, "before_cursor_execute", lambda *_: reading.set())
    with statements(cold) as sent:
        first = asyncio.ensure_future(cold.organisation())
        await reading.wait()  # the read is under way
        first.cancel()
        loaded = await cold.organisation()
    assert loaded is not None and first.cancelled()
    version_reads = [sql for sql in sent if sql.split() == VERSION_READ]
    assert len(version_reads) == 1, sent


VERSION_READ = ["SELECT", "org_meta.version", "FROM", "org_meta"]
