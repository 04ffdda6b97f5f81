"""The broadcast benchmark's figures, report and command line (`python -m bench.broadcast`)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import harness
from bench.broadcast.drive import BODY, Observed, Options, run
from bench.broadcast.verdicts import Once, busiest_second, busiest_window, exactly_once, steady_rate
from bench.figures import Columns, Figure, figure_table, figures_document, percentile, platform_meta
from helpline.pacing import TELEGRAM_RATE, sms_bucket
from routing.broadcasts import sms_body
from routing.segments import segments

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
RATE_TOLERANCE = 0.02
HELP_P99_TARGET_S = 1.0
TELEGRAM_LIMIT = 30
COLUMNS = Columns(label=50, value=10, unit=6)


@dataclass
class Outcome:
    figures: list[Figure]
    sms_once: Once
    telegram_once: Once
    meta: dict[str, object]
    help_failures: int


def _figures_of_pacing(options: Options, seen: Observed, recovered: set[str]) -> list[Figure]:
    body = sms_body(BODY)
    parts = segments(body).count
    sms = [(at, to, sender) for at, to, sender, text in seen.twilio if text == body]
    numbers = sorted({sender for _, _, sender in sms})
    tg = [(at, 1) for at, chat, text in seen.telegram if text == BODY]
    tg_main = [
        (at, 1) for at, chat, text in seen.telegram if text == BODY and str(chat) not in recovered
    ]
    last_main = max((at for at, to, _ in sms if to not in recovered), default=math.nan)
    last = max([at for at, _, _ in sms] + [at for at, _ in tg], default=math.nan)
    return [
        Figure("sms_segments", "SMS segments sent (broadcast)", len(sms) * parts, ""),
        Figure("sms_numbers", "  from sending numbers (each paced alone)", len(numbers), ""),
        *(
            figure
            for n, number in enumerate(numbers)
            for figure in _figures_of_number(options, sms, parts, recovered, number, n)
        ),
        Figure("telegram_sent", "Telegram messages sent (broadcast)", len(tg), ""),
        Figure(
            "telegram_rate",
            "  achieved rate, first attempts",
            steady_rate(tg_main, 1),  # a new bucket starts empty: the first goes at once
            "msg/s",
            f"<= {TELEGRAM_RATE:g}",
        ),
        Figure(
            "telegram_busiest_1s",
            "  most messages in any 1 s window",
            busiest_second(tg),
            "msg",
            f"<= {TELEGRAM_LIMIT}",
            busiest_second(tg) <= TELEGRAM_LIMIT,
        ),
        Figure("tail_s", "recovered claims sent after the main run by", last - last_main, "s"),
    ]


def _figures_of_number(
    options: Options,
    sms: list[tuple[float, str, str]],
    parts: int,
    recovered: set[str],
    number: str,
    n: int,
) -> list[Figure]:
    """The pacing of one sending number: its bucket holds `rate` a second and one burst."""
    bucket = sms_bucket(number, options.rate)
    mine = [(at, parts) for at, _, sender in sms if sender == number]
    main = [(at, parts) for at, to, sender in sms if sender == number and to not in recovered]
    rate = steady_rate(main, parts)  # a new bucket starts empty: the first goes at once
    within = abs(rate - options.rate) <= RATE_TOLERANCE * options.rate
    busiest, start = busiest_window(mine)
    first = min((at for at, _ in mine), default=math.nan)
    bound = options.rate + bucket.burst
    suffix = "" if n == 0 else f"_{n + 1}"
    return [
        Figure(f"sms_number{suffix}", f"  {number}: segments", len(mine) * parts, ""),
        Figure(
            f"sms_rate{suffix}",
            "    achieved rate, first attempts",
            rate,
            "seg/s",
            f"{options.rate} ±{RATE_TOLERANCE:.0%}",
            within,
        ),
        Figure(
            f"sms_busiest_1s{suffix}",
            "    most segments in any 1 s window",
            busiest,
            "seg",
            f"<= {bound:g}",
            busiest <= bound,
        ),
        Figure(
            f"sms_busiest_at_s{suffix}",
            "    that window starts after the first SMS by",
            start - first,
            "s",
        ),
    ]


def outcome(options: Options, seen: Observed) -> Outcome:
    """The figures of one run."""
    body = sms_body(BODY)
    sms_homes = [h for h in seen.homes if h.chat is None]
    tg_homes = [h for h in seen.homes if h.chat is not None]
    sms_once = exactly_once(
        [h.phone for h in sms_homes], [to for _, to, _, text in seen.twilio if text == body]
    )
    chats = [str(chat) for _, chat, text in seen.telegram if text == BODY]
    tg_once = exactly_once([str(h.chat) for h in tg_homes], chats)
    recovered = {to for channel, to, _, attempts, _ in seen.rows if attempts > 1}
    given_up = sum(
        1
        for ch, _, status, a, code in seen.rows
        if ch == "telegram" and status == "failed" and code is None
    )
    states: dict[str, int] = {}
    for _, _, status, _, _ in seen.rows:
        states[status] = states.get(status, 0) + 1
    latencies = _help_latencies(seen)
    p99 = percentile(latencies, 0.99) if latencies else math.nan
    help_failures = sum(1 for _, _, status in seen.help_posts if status != 200)
    figures = [
        Figure("recipients", "recipients", len(seen.homes), ""),
        Figure("created_s", "broadcast send (plan + store) took", seen.created_s, "s"),
        *_figures_of_pacing(options, seen, recovered),
        Figure(
            "sms_once",
            "SMS recipients who got it exactly once",
            sms_once.once,
            "",
            f"{len(sms_homes):,}",
            sms_once.once == len(sms_homes),
        ),
        Figure("sms_more", "  more than once", sms_once.more, "", "0", sms_once.more == 0),
        Figure(
            "tg_once",
            "Telegram recipients who got it exactly once",
            tg_once.once,
            "",
            f"{len(tg_homes):,}",
            tg_once.once == len(tg_homes),
        ),
        Figure("tg_more", "  more than once", tg_once.more, "", "0", tg_once.more == 0),
        Figure("tg_given_up", "  rows given up as maybe sent (killed mid-send)", given_up, ""),
        Figure("recovered", "rows claimed again after the kill", len(recovered), ""),
        Figure("delivered", "rows delivered (status callbacks)", states.get("delivered", 0), ""),
        Figure("help_sent", "help messages during the broadcast", len(latencies), ""),
        Figure("help_p50_s", "  latency to the receipt p50", _p(latencies, 0.5), "s"),
        Figure(
            "help_p99_s",
            "  latency to the receipt p99",
            p99,
            "s",
            f"< {HELP_P99_TARGET_S:g}",
            p99 < HELP_P99_TARGET_S,
        ),
        Figure("help_max_s", "  latency to the receipt max", _p(latencies, 1.0), "s"),
        Figure(
            "help_failures",
            "  help webhooks not answered 200",
            help_failures,
            "",
            "0",
            help_failures == 0,
        ),
        *(
            Figure(f"rss_{name.split()[0]}", f"peak RSS of {name}", kb / 1024, "MB")
            for name, kb in sorted(seen.rss_kb.items())
        ),
    ]
    meta: dict[str, object] = {
        "backend": options.stores.backend,
        "recipients": options.recipients,
        "rate": options.rate,
        "telegram_share": options.telegram_share,
        "kill": options.kill,
        "killed": seen.killed_at is not None,
        "killed_worker": None if seen.killed is None else f"worker-{seen.killed + 1}",
        "finished": seen.finished,
        "states": states,
        **platform_meta(),
    }
    return Outcome(figures, sms_once, tg_once, meta, help_failures)


def _p(values: list[float], q: float) -> float:
    return percentile(values, q) if values else math.nan


def _help_latencies(seen: Observed) -> list[float]:
    """From each help webhook's post to the first SMS the fake got for that phone."""
    first: dict[str, float] = {}
    for at, to, _, _ in seen.twilio:
        first.setdefault(to, at)
    return sorted(first[phone] - posted for phone, posted, _ in seen.help_posts if phone in first)


def failed(result: Outcome) -> bool:
    """Exit 2: an SMS recipient not sent it exactly once, a doubled Telegram message, or a
    help webhook that failed."""
    return (
        result.sms_once.never
        + result.sms_once.more
        + result.telegram_once.more
        + result.help_failures
    ) > 0 or not result.meta["finished"]


def _table(result: Outcome) -> str:
    m = result.meta
    return "\n".join(
        [
            f"broadcast benchmark  backend={m['backend']}  recipients={m['recipients']:,}  "
            f"rate={m['rate']} seg/s  telegram={m['telegram_share']:.0%}  "
            f"killed={m['killed_worker']}",
            f"python {m['python']} ({m['machine']}, {m['cpus']} cpus)  states {m['states']}",
            "",
            *figure_table(result.figures, COLUMNS),
        ]
    )


def _parser() -> argparse.ArgumentParser:
    from bench import broadcast  # the package's docstring is the help

    parser = harness.bench_parser("python -m bench.broadcast", broadcast.__doc__)
    add = parser.add_argument
    add("--recipients", type=int, default=10_000, help="audience size (default 10,000)")
    add(
        "--rate",
        type=int,
        default=50,
        help="HELPLINE_SMS_RATE, segments/s per sending number (default 50: 8,000 SMS in under"
        " 3 minutes; the service's own default is 10)",
    )
    add("--telegram-share", type=float, default=0.2, help="linked on Telegram (default 0.2)")
    add("--helps", type=int, default=100, help="help messages during the run (default 100)")
    add("--no-kill", action="store_true", help="do not SIGKILL a worker midway")
    add("--json", action="store_true", help="print JSON instead of a table")
    harness.add_store_options(parser, DEFAULT_REDIS_URL)
    add("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    add("--logs", type=Path, metavar="DIR", help="keep the service logs in DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 2 when exactly-once or help failed, or it could not run."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.recipients < 2 or args.rate < 1 or not 0 <= args.telegram_share <= 1:
        parser.error("--recipients >= 2, --rate >= 1, --telegram-share from 0 to 1")
    options = Options(
        args.recipients,
        args.rate,
        args.telegram_share,
        args.helps,
        not args.no_kill,
        harness.chosen_stores(parser, args, DEFAULT_REDIS_URL),
        timeout_s=args.timeout,
        logs=args.logs,
    )
    result = harness.guarded(lambda: outcome(options, run(options)))
    if result is None:
        return 2
    if args.json:
        print(json.dumps({**result.meta, "figures": figures_document(result.figures)}, indent=2))
    else:
        print(_table(result))
    if failed(result):
        print(
            "error: not every recipient got it exactly once, help failed, or the run did "
            "not finish",
            file=sys.stderr,
        )
        return 2
    return 0
