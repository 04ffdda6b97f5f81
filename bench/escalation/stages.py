"""Where the lateness goes: each first deadline's run on the timer, from its journal
(`helpline.timers.journal`), set beside the escalation the database stored.

For a deadline due at `due` (its timer score: the conversation's deadline plus
`SCHEDULE_MARGIN`), put on the timer by the webhook that answered at `answered`, taken by
a worker's poll at `claimed`, started at `started`, with its escalation row stored at
`escalated_at`:

* scheduling: max(0, answered - due), the part of the deadline that had passed before
  the webhook put it on the timer (a webhook slower than the deadline);
* poll: claimed - max(due, answered), the timer's poll (an upper bound: the answer
  comes a moment after the timer has the deadline). A deadline whose worker died, taken
  again once its lease ran out, is counted apart as "rescued";
* queue: started - claimed, the wait for a free slot;
* job: escalated_at - started, the deadline job up to the stored escalation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.escalation.verdicts import Verdict
from bench.figures import percentile
from helpline.effects import deadline_contact
from helpline.timers import Firing


@dataclass(frozen=True, slots=True)
class Stages:
    """Quantiles (s) of each stage over the first deadlines that ran on the timer."""

    runs: int  # first deadlines with a journal entry and an escalation
    scheduling_p50: float
    scheduling_p99: float
    poll_p50: float
    poll_p99: float
    queue_p50: float
    queue_p99: float
    job_p50: float
    job_p99: float
    rescued: int  # taken again after the lease of a worker that died ran out
    rescued_max: float  # the largest lateness of those


def first_deadlines(firings: Sequence[Firing]) -> dict[int, Firing]:
    """The escalating run of each conversation's first deadline (step 0): the last
    journal entry of that member (an earlier run whose worker died wrote none)."""
    found: dict[int, Firing] = {}
    for firing in firings:
        if firing.member.split(":")[2] == "0":
            found[deadline_contact(firing.member)] = firing
    return found


def stages(
    verdicts: Sequence[Verdict], firings: Sequence[Firing], answered: Mapping[int, float]
) -> Stages:
    """Each stage's share of the lateness, over the conversations that escalated;
    `answered`: when the webhook that opened each conversation answered (epoch s)."""
    runs = first_deadlines(firings)
    scheduling: list[float] = []
    poll: list[float] = []
    queue: list[float] = []
    job: list[float] = []
    rescued: list[float] = []
    for verdict in verdicts:
        firing = runs.get(verdict.contact_id)
        if firing is None or verdict.escalated_at is None or verdict.lateness is None:
            continue
        if firing.attempt > 1:
            rescued.append(verdict.lateness)
            continue
        on_timer = max(firing.due, answered.get(verdict.contact_id, firing.due))
        scheduling.append(on_timer - firing.due)
        poll.append(firing.claimed - on_timer)
        queue.append(firing.started - firing.claimed)
        job.append(verdict.escalated_at - firing.started)
    nan = float("nan")

    def q(values: list[float], at: float) -> float:
        return percentile(sorted(values), at) if values else nan

    return Stages(
        runs=len(poll) + len(rescued),
        scheduling_p50=q(scheduling, 0.5),
        scheduling_p99=q(scheduling, 0.99),
        poll_p50=q(poll, 0.5),
        poll_p99=q(poll, 0.99),
        queue_p50=q(queue, 0.5),
        queue_p99=q(queue, 0.99),
        job_p50=q(job, 0.5),
        job_p99=q(job, 0.99),
        rescued=len(rescued),
        rescued_max=max(rescued, default=nan),
    )
