"""The console benchmark's pure parts (`bench.console`): the pages it times, how an
answer is judged, the organisation with its two console users, and what it reads off a
page or an SMS."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from bench import harness
from bench.national import NATIONAL, national
from rota.model import Access, Organisation

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_CODE = re.compile(r"\b([0-9]{6})\b")
_CONTACT_LINK = re.compile(r'href="/console/kontaktlogg/[0-9]+"')


@dataclass(frozen=True, slots=True)
class Page:
    """A console page to time: its figure key, name, path with query, and what a 200
    answer must contain to be the page asked for (not the login page, not an error)."""

    key: str
    name: str
    path: str
    marker: str


def console_pages(org: Organisation, today: date) -> list[Page]:
    """The pages the issue names: Oversikt, Kontaktlogg and Vaktplan's month view of the
    first kommune (in both roles' scope) for the month of `today`."""
    plan = urlencode({"plan": f"kommune:{org.kommuner[0].id}", "vis": "maned", "dato": today})
    return [
        Page("oversikt", "Oversikt", "/console/", ">Oversikt</h1>"),
        Page("kontaktlogg", "Kontaktlogg", "/console/kontaktlogg", ">Kontaktlogg</h1>"),
        Page("vaktplan", "Vaktplan (month)", f"/console/vaktplan?{plan}", ">Vaktplan for "),
    ]


def judge(status: int, body: str, marker: str) -> str:
    """The kind of an answer: "ok", "HTTP <status>", "login" (sent to log in: the session
    was lost) or "not the page" (a 200 without `marker`)."""
    if status in (302, 303) or (status == 200 and ">Logg inn</h1>" in body):
        return "login"
    if status != 200:
        return f"HTTP {status}"
    return "ok" if marker in body else "not the page"


def bench_org(seed: int, year: int) -> tuple[Organisation, dict[str, str]]:
    """The national organisation of `year` with two console users: the first person an
    admin, the second a koordinator of the first barnevernvakt's kommuner; and the phone
    number each role logs in with."""
    org = national(seed, replace(NATIONAL, year=year))
    admin, koordinator = org.people[0], org.people[1]
    block = next(t for t in org.teams if t.kind == "barnevernvakt").kommuner
    access = (Access(admin.id, "admin"), Access(koordinator.id, "koordinator", block))
    return replace(org, access=access), {"admin": admin.phone, "koordinator": koordinator.phone}


def contacts_listed(html: str) -> int:
    """How many contacts a Kontaktlogg page links to."""
    return len(_CONTACT_LINK.findall(html))


def csrf_of(html: str) -> str:
    """The CSRF token of a console form."""
    found = _CSRF.search(html)
    if not found:
        raise harness.BenchError("the console page has no CSRF field")
    return found[1]


def code_of(body: str) -> str:
    """The six-digit code of a login SMS."""
    found = _CODE.search(body)
    if not found:
        raise harness.BenchError("the login SMS has no six-digit code")
    return found[1]
