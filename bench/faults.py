"""The fault run, longer: one service under every fault in turn, calls and messages
flowing throughout, every webhook delivered twice at once; the counts at the end.

    .venv/bin/python -m bench.faults [--redis-cut 60] [--blackhole 30] [--calm 10]
        [--every 0.5] [--database-url URL] [--redis-url URL] [--json] [--logs DIR]

`helpline serve --no-jobs` and `helpline worker` run as processes of their own on
PostgreSQL and Redis (default: database `test` and Redis db 14 on 127.0.0.1, both
WIPED), each reached through a TCP fault proxy of `tests.faults.proxy`, with Twilio on
the fake of `tests.fakes` (messages are sent to it and recorded). The organisation is the
demo one with a 10 s message deadline and one generated foster home per message.

In order, with a call and a message every `--every` seconds (each posted twice at once):
calm; Redis cut (`--redis-cut` s), then every deadline that fell due must fire; calm;
PostgreSQL blackholed (`--blackhole` s: accepted, never answered), every call answered
by the fallback within 3 s, then by the rota again without a restart; the web process
SIGKILLed mid-call and restarted, the call's next step continuing its frozen chain; the
worker SIGKILLed while it sends escalations to a slow Twilio, and another started (rows
it left `sending` are aged past the 5-minute recovery time, not waited for).

The counts: calls made, answered by rota and by fallback, messages in, notifications
out (each a row sent and received by the fake), lost and doubled (targets 0; a message
Twilio got twice but the outbox recorded once is at-least-once, shown apart). Exit 2
when a target or a scenario's check failed, or the service could not be set up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench import harness
from bench.figures import Columns, Figure, figure_table, figures_document, platform_meta
from tests.faults import scenarios
from tests.faults.audit import Counts, audit
from tests.faults.rig import Rig, fault_rig

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
DEADLINE_S = 10
COLUMNS = Columns(label=46, value=10, unit=5)


async def run(args: argparse.Namespace, work: Path) -> tuple[Counts, dict[str, object]]:
    """Every fault in turn on one service; the counts and each scenario's checks."""
    seconds = args.calm * 4 + args.redis_cut + args.blackhole + 60
    homes = int(seconds / args.every) + 50
    database_url, redis_url = args.database_url, args.redis_url
    async with fault_rig(
        database_url, redis_url, work, homes=homes, deadline_s=DEADLINE_S, twice=True
    ) as rig:
        checks: dict[str, object] = {}
        await rig.traffic(args.calm, args.every)
        cut = await scenarios.redis_cut(rig, args.redis_cut)
        checks["redis cut: deadlines fired after"] = cut.escalated
        checks["redis cut: /readyz 503 then 200"] = (cut.ready_during, cut.ready_after) == (
            503,
            200,
        )
        await rig.traffic(args.calm, args.every)
        hole = await scenarios.database_blackhole(rig, args.blackhole)
        checks["blackhole: every call to the fallback"] = set(hole.calls_during) == {"fallback"}
        checks["blackhole: status callback 503"] = set(hole.status_answers) == {503}
        checks["blackhole: rota again, no restart"] = hole.back
        checks["blackhole: /readyz 503 then 200"] = (hole.ready_during, hole.ready_after) == (
            503,
            200,
        )
        await rig.traffic(args.calm, args.every)
        kill = await scenarios.web_kill(rig)
        checks["web kill: next step, same chain"] = len(kill.chain) >= 2 and set(
            kill.rang_next
        ) == {kill.chain[1]}
        await rig.traffic(args.calm, args.every)
        worker = await scenarios.worker_kill(rig)
        checks["worker kill: in flight, then all sent"] = worker.in_flight and worker.settled
        counts = await audit(rig, at_least_once=True)
        checks["worker kill: rows left sending"] = worker.left_sending
        checks["sent to Twilio again (at least once)"] = counts.resent
        _keep_logs(rig, args.logs)
    return counts, checks


def _keep_logs(rig: Rig, logs: Path | None) -> None:
    if logs is None:
        return
    logs.mkdir(parents=True, exist_ok=True)
    for log in rig.work.glob("*.log"):
        (logs / log.name).write_bytes(log.read_bytes())


def figures(counts: Counts) -> list[Figure]:
    """The counts table, lost and doubled with their target."""
    rows = counts.row()
    out = [Figure(k.replace(" ", "_"), k, v, "") for k, v in rows.items()]
    return [
        Figure(f.key, f.label, f.value, "", "0", f.value == 0)
        if f.label in ("lost", "doubled")
        else f
        for f in out
    ]


def _table(counts: Counts, checks: dict[str, object], meta: dict[str, object]) -> str:
    lines = [
        f"fault run  redis-cut={meta['redis_cut_s']} s  blackhole={meta['blackhole_s']} s  "
        f"every={meta['every_s']} s (twice at once)  load before: {meta['load']}",
        f"python {meta['python']} ({meta['machine']}, {meta['cpus']} cpus)",
        "",
        *figure_table(figures(counts), COLUMNS),
        "",
    ]
    for name, value in checks.items():
        if name.startswith("_"):
            continue
        status = ("ok" if value else "MISSED") if isinstance(value, bool) else str(value)
        lines.append(f"{name:<46}{status:>10}")
    lines += [f"  {problem}" for problem in counts.problems[:20]]
    return "\n".join(lines)


def failed(counts: Counts, checks: dict[str, object]) -> bool:
    return bool(counts.lost or counts.doubled) or any(v is False for v in checks.values())


def _parser() -> argparse.ArgumentParser:
    parser = harness.bench_parser("python -m bench.faults", __doc__)
    add = parser.add_argument
    add("--redis-cut", type=float, default=60.0, help="seconds Redis is cut (default 60)")
    add("--blackhole", type=float, default=30.0, help="seconds PostgreSQL is blackholed (30)")
    add("--calm", type=float, default=10.0, help="seconds of calm between faults (default 10)")
    add("--every", type=float, default=0.5, help="a call and a message every (default 0.5 s)")
    add("--database-url", default=harness.DEFAULT_DATABASE_URL, help="PostgreSQL (WIPED)")
    add("--redis-url", default=DEFAULT_REDIS_URL, help=f"Redis (flushed; {DEFAULT_REDIS_URL})")
    add("--json", action="store_true", help="print JSON instead of a table")
    add("--logs", type=Path, metavar="DIR", help="keep the service logs in DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fault run: 2 when something was lost or doubled, a check failed, or the
    service could not be set up; otherwise 0."""
    args = _parser().parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        print("error: --database-url must name a PostgreSQL database", file=sys.stderr)
        return 2
    meta: dict[str, object] = {
        "redis_cut_s": args.redis_cut,
        "blackhole_s": args.blackhole,
        "every_s": args.every,
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        **platform_meta(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        result = harness.guarded(lambda: asyncio.run(run(args, Path(tmp))))
    if result is None:
        return 2
    counts, checks = result
    if args.json:
        document = {**meta, "figures": figures_document(figures(counts)), "checks": checks}
        print(json.dumps({**document, "problems": asdict(counts)["problems"]}, indent=2))
    else:
        print(_table(counts, checks, meta))
    return 2 if failed(counts, checks) else 0


if __name__ == "__main__":
    sys.exit(main())
