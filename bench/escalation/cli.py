"""The escalation benchmark's figures, report and command line (`python -m bench.escalation`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import harness
from bench.escalation.drive import KILL_POINTS, Observed, Opening, Options, run
from bench.escalation.stages import stages
from bench.escalation.verdicts import Summary, Verdict, summarise, verdicts
from bench.figures import Columns, Figure, figure_table, figures_document, percentile, platform_meta
from helpline.effects import SCHEDULE_MARGIN

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
P99_TARGET_S = 1.0  # with and without a worker SIGKILLed
RESCUED_TARGET_S = 30.0  # a deadline whose worker died
COLUMNS = Columns(label=46, value=10, unit=5)


@dataclass
class Outcome:
    """Everything one benchmark run reports."""

    figures: list[Figure]
    summary: Summary
    bad: list[Verdict]
    opening: Opening
    meta: dict[str, object]


def outcome(options: Options, observed: Observed) -> Outcome:
    """The figures of one run."""
    total, opening, stored, timeline = (
        observed.total,
        observed.opening,
        observed.stored,
        observed.timeline,
    )
    judged = verdicts(stored, options.deadline_s)
    s = summarise(judged)
    ms = sorted(x * 1e3 for x in opening.latencies)
    open_s = timeline.last_post - timeline.first_post
    n = f"{total:,}"
    target = f"<= {P99_TARGET_S:g} s"
    kill_note = " (a worker SIGKILLed)" if options.kill_at else ""
    home_of = stored.homes
    answered = {
        c: opening.answered[home_of[c]] for c in stored.contacts if home_of[c] in opening.answered
    }
    st = stages(judged, observed.firings, answered)
    figures = [
        Figure("conversations", "conversations opened", total, ""),
        Figure("open_s", "time to open them all", open_s, "s"),
        Figure("open_rate", "  opening rate", total / open_s if open_s > 0 else 0.0, "/s"),
        Figure("webhook_p50_ms", "  POST /twilio/sms p50", percentile(ms, 0.5), "ms"),
        Figure("webhook_p99_ms", "  POST /twilio/sms p99", percentile(ms, 0.99), "ms"),
        Figure(
            "failed_posts", "failed webhook posts", opening.failures, "", "0", opening.failures == 0
        ),
        Figure("stored", "conversations stored", len(judged), "", n, len(judged) == total),
        Figure(
            "escalated_once", "escalated exactly once to step 2", s.once, "", n, s.once == total
        ),
        Figure("missing", "  not escalated", s.missing, "", "0", s.missing == 0),
        Figure("doubled", "  escalated more than once", s.doubled, "", "0", s.doubled == 0),
        Figure("early", "  escalated before the deadline", s.early, "", "0", s.early == 0),
        Figure("lateness_p50_s", "lateness p50", s.p50, "s"),
        Figure("lateness_p90_s", "lateness p90", s.p90, "s"),
        Figure(
            "lateness_p99_s", f"lateness p99{kill_note}", s.p99, "s", target, s.p99 <= P99_TARGET_S
        ),
        Figure("lateness_max_s", "lateness max", s.max, "s"),
        Figure("timer_runs", "where it goes: first deadlines on the timer", st.runs, ""),
        Figure("margin_s", "  schedule margin", SCHEDULE_MARGIN, "s"),
        Figure(
            "scheduling_p50_s", "  due before the webhook scheduled it p50", st.scheduling_p50, "s"
        ),
        Figure(
            "scheduling_p99_s", "  due before the webhook scheduled it p99", st.scheduling_p99, "s"
        ),
        Figure("poll_p50_s", "  on the timer, due -> taken (poll, backlog) p50", st.poll_p50, "s"),
        Figure("poll_p99_s", "  on the timer, due -> taken (poll, backlog) p99", st.poll_p99, "s"),
        Figure("queue_p50_s", "  queue (taken -> started) p50", st.queue_p50, "s"),
        Figure("queue_p99_s", "  queue (taken -> started) p99", st.queue_p99, "s"),
        Figure("job_p50_s", "  job (started -> escalation stored) p50", st.job_p50, "s"),
        Figure("job_p99_s", "  job (started -> escalation stored) p99", st.job_p99, "s"),
    ]
    if st.rescued or options.kill_at:
        rescued_ok = not st.rescued or st.rescued_max < RESCUED_TARGET_S
        figures += [
            Figure("rescued", "  taken again after their worker died", st.rescued, ""),
            Figure(
                "rescued_max_s",
                "  their lateness max",
                st.rescued_max,
                "s",
                f"< {RESCUED_TARGET_S:g} s",
                rescued_ok,
            ),
        ]
    if timeline.killed is not None and timeline.worker_back is not None:
        killed, back = timeline.killed, timeline.worker_back
        first_due = timeline.first_post + options.deadline_s
        unattended = sum(killed <= v.due <= back for v in judged)
        figures += [
            Figure(
                "killed_after_s",
                "worker SIGKILLed, s after the first post",
                killed - timeline.first_post,
                "s",
            ),
            Figure("killed_before_due_s", "  s before the first deadline", first_due - killed, "s"),
            Figure("restart_s", "  new worker up after", back - killed, "s"),
            Figure("unattended", "  deadlines due until the new worker was up", unattended, ""),
        ]
    if stored.moved:
        label = "shift-change reassignments (skew the run)"
        figures.append(Figure("moved", label, stored.moved, "", "0", False))
    bad = [v for v in judged if v.escalations != 1][:20]
    meta: dict[str, object] = {
        "backend": options.stores.backend,
        "conversations": total,
        "deadline_s": options.deadline_s,
        "concurrency": options.concurrency,
        "kill_worker": options.kill_at,
        "workers": options.workers,
        **platform_meta(),
        "observed_s_after_last_post": round(timeline.observed_until - timeline.last_post, 3),
        "first_error": opening.first_error or None,
    }
    return Outcome(figures, s, bad, opening, meta)


def failed(result: Outcome, total: int) -> bool:
    """Exit 2: a conversation not escalated exactly once, or a webhook failed."""
    s = result.summary
    return s.once != total or s.conversations != total or result.opening.failures > 0


def _table(result: Outcome) -> str:
    m = result.meta
    kill = f"  kill-worker={m['kill_worker']}" if m["kill_worker"] else ""
    kill += f"  workers={m['workers']}" if m["workers"] != 1 else ""
    lines = [
        f"escalation benchmark  backend={m['backend']}  conversations={m['conversations']:,}  "
        f"deadline={m['deadline_s']} s  concurrency={m['concurrency']}{kill}",
        f"python {m['python']} ({m['machine']}, {m['cpus']} cpus)",
        "",
        *figure_table(result.figures, COLUMNS),
    ]
    for v in result.bad:
        lines.append(f"  conversation {v.contact_id}: {v.escalations} step-2 notifications")
    return "\n".join(lines)


def _document(result: Outcome) -> dict[str, object]:
    return {
        **result.meta,
        "figures": figures_document(result.figures),
        "not_once": [asdict(v) for v in result.bad],
    }


def _parser() -> argparse.ArgumentParser:
    from bench import escalation  # the package's docstring is the help

    parser = harness.bench_parser("python -m bench.escalation", escalation.__doc__)
    add = parser.add_argument
    add("--conversations", type=int, default=1000, help="conversations to open (default 1000)")
    add("--deadline", type=int, default=5, help="message_deadline in seconds (default 5)")
    add("--concurrency", type=int, default=50, help="concurrent webhook posts (default 50)")
    add("--json", action="store_true", help="print JSON instead of a table")
    add("--kill-worker", action="store_true", help="SIGKILL the worker once and start another")
    add(
        "--kill-at",
        choices=KILL_POINTS,
        default=KILL_POINTS[0],
        help="when to kill it (default: when half the conversations are open)",
    )
    add("--workers", type=int, default=1, help="worker processes (default 1)")
    harness.add_store_options(parser, DEFAULT_REDIS_URL)
    add("--timeout", type=float, default=300.0, help="give up after this many seconds (all)")
    add("--logs", type=Path, metavar="DIR", help="keep the service logs in DIR")
    return parser


def _options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    if min(args.conversations, args.concurrency, args.deadline, args.workers) < 1:
        parser.error("--conversations, --concurrency, --deadline, --workers: at least 1")
    return Options(
        conversations=args.conversations,
        deadline_s=args.deadline,
        concurrency=args.concurrency,
        stores=harness.chosen_stores(parser, args, DEFAULT_REDIS_URL),
        kill_at=args.kill_at if args.kill_worker else None,
        workers=args.workers,
        timeout_s=args.timeout,
        logs=args.logs,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark: 2 when a conversation did not escalate exactly once, a webhook
    failed or the service could not be set up; otherwise 0."""
    parser = _parser()
    args = parser.parse_args(argv)
    options = _options(parser, args)
    result = harness.guarded(lambda: outcome(options, run(options)))
    if result is None:
        return 2
    print(json.dumps(_document(result), indent=2) if args.json else _table(result))
    if failed(result, options.conversations):
        first = result.meta["first_error"]
        print(
            f"error: not every conversation escalated exactly once, or webhooks failed"
            f"{f' (first: {first})' if first else ''}",
            file=sys.stderr,
        )
        return 2
    return 0
