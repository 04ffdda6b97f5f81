"""Welcomes after a load: every foster home that joined a group gets one welcome text.

Run after the transaction that loaded the register committed (`helpline load`, `demo`,
and `serve` with `HELPLINE_ORG_FILE`). Who was welcomed is stored in `group_welcomes` in
the transaction that writes the texts, insert-or-nothing, so reloads, and two loads at
once, welcome each home to each group once. The texts are `group` rows for the paced
lane (not help): held for SMS in quiet hours, silent on Telegram, stopped by STOPP to the
group's number (or the network number, for groups reached there).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import optout, sender
from helpline.bootstrap import Services
from helpline.db.models import GroupWelcomeRow
from helpline.paced_rows import NewRow, insert_rows
from helpline.telegram_links import all_links
from rota.wallclock import zone
from routing.classes import decide, opt_out_scopes, outbox_status
from routing.group_welcomes import joining, welcomes

WELCOME_KIND = "welcome"


async def welcome_new_members(services: Services) -> int:
    """Welcome every home that is in a group now and was never welcomed to it; how many
    (group, home) pairs were welcomed. Starts the paced lanes after the commit."""
    loaded = await services.organisation()
    if loaded is None:
        return 0
    directory, config = loaded.directory, loaded.org.helpline
    now = services.clock()
    tz = zone(config.timezone)
    rows: list[NewRow] = []
    welcomed = 0
    async with services.sessions() as session, session.begin():
        query = select(GroupWelcomeRow.group_id, GroupWelcomeRow.foster_home_id)
        done = {(group_id, home_id) for group_id, home_id in await session.execute(query)}
        links = await all_links(session)
        for group, home in joining(directory, done):
            if not await _claim(session, group.id, home.id, now):
                continue  # another load welcomed them meanwhile
            welcomed += 1
            for welcome in welcomes(directory, group, home, links):
                via_network = group.number is None and welcome.sender == config.network_number
                scopes = opt_out_scopes("group", group.id, via_network)
                channel, to = welcome.recipient.channel, welcome.recipient.address
                stopped = await optout.is_opted_out(session, channel, to, scopes)
                rows.append(
                    NewRow(
                        channel=channel,
                        to=to,
                        sender=welcome.sender,
                        body=welcome.body,
                        msg_class="group",
                        kind=WELCOME_KIND,
                        decision=decide("group", channel, stopped, config.quiet_hours, now, tz),
                        group_id=group.id,
                    )
                )
        await insert_rows(session, rows, now)
    if any(outbox_status(row.decision) == "queued" for row in rows):
        await sender.kick(services)
    return welcomed


async def _claim(session: AsyncSession, group_id: str, home_id: str, now: datetime) -> bool:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(GroupWelcomeRow)
        .values(group_id=group_id, foster_home_id=home_id, welcomed_at=now)
        .on_conflict_do_nothing(index_elements=["group_id", "foster_home_id"])
    )
    result = await session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount == 1
