"""`purge [--dry-run]`: blank content past `HELPLINE_RETENTION_DAYS` (the daily job's work)."""

from __future__ import annotations

import argparse

from helpline.bootstrap import open_services
from helpline.commands.common import Subparsers
from helpline.db.engine import check_migrated
from helpline.retention import PurgeCounts, purge, recordings_for
from helpline.settings import Settings
from routing.retention import cutoff

LABELS = {
    "contacts": "contacts",
    "message_bodies": "message bodies",
    "outbox_bodies": "outbox bodies",
    "group_message_bodies": "group message bodies",
    "webhook_answers": "stored webhook answers",
    "unknown_numbers": "unknown callers' numbers",
    "recordings": "recordings",
    "recordings_kept": "recordings kept (not deleted at Twilio; next run retries)",
}


def register(sub: Subparsers) -> None:
    command = sub.add_parser(
        "purge", help="blank message bodies, recordings and unknown numbers past retention"
    )
    command.add_argument(
        "--dry-run", action="store_true", help="count what would go; change nothing"
    )
    command.set_defaults(handler=purge_command)


async def purge_command(settings: Settings, args: argparse.Namespace) -> int:
    async with open_services(settings, with_redis=False) as services:
        await check_migrated(services.engine)
        cut = cutoff(services.clock(), settings.retention_days)
        async with recordings_for(settings) as recordings:
            counts = await purge(services, dry_run=args.dry_run, recordings=recordings)
    print(render(counts, cut.isoformat(timespec="seconds"), settings.retention_days, args.dry_run))
    return 0


def render(counts: PurgeCounts, cut: str, days: int, dry_run: bool) -> str:
    """The counts per kind, for the operator."""
    head = "would blank or delete" if dry_run else "blanked or deleted"
    lines = [f"content untouched since before {cut} (HELPLINE_RETENTION_DAYS={days}), {head}:"]
    for name, count in counts.items():
        if name == "recordings_kept" and (dry_run or not count):
            continue
        lines.append(f"  {LABELS[name]:<26} {count}")
    return "\n".join(lines)
