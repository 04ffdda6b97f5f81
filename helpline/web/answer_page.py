"""The answer page of a family's personal link: `GET /svar/{token}` shows the event and the
family's answer; `POST /svar/{token}` answers (ja with how many, or nei) and redirects to
the page (post/redirect/get) with a receipt for the confirmation (`routing.answer_page`).

The token is the only credential: no login, no session, no cookie. An unknown token
answers 404 with the same page whatever the reason. A POST is refused (403, nothing
changed) when the browser says it comes from another site (`Sec-Fetch-Site`, or else an
`Origin` that is not ours), and taken only with the page's form token: an HMAC keyed by
the personal token over the answer as the page showed it. Only a holder of the link can
make one (the database keeps the token's hash alone), and it goes stale with the first
answer taken, so a form sent twice, or from a page older than the answer, changes nothing
(409, the answer as it stands). The answer itself is `helpline.rsvp.take`, via "link".

The family reading its own invitation is not in the access log: it is the data subject
reading what it answered, not a reader of someone's personal data, and the page names no
one. Nothing here logs the token; the access log masks `/svar/…` paths.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.bootstrap import LoadedOrg
from helpline.db.models import EventRow, InvitationRow
from helpline.event_jobs import after_change
from helpline.events import facts, lock, reply, standing, text_of
from helpline.invitations import LINK_PATH, by_token
from helpline.rsvp import take
from helpline.web.console.guard import HEADERS
from helpline.web.keys import SERVICES
from rota.wallclock import zone
from routing import invitation_texts as say
from routing.answer_page import (
    STALE,
    FormAnswer,
    FormErrors,
    confirmed,
    read_form,
    receipt,
    view,
)
from routing.invitations import Closed, NoRoomForMore, Outcome, TooMany

log = logging.getLogger(__name__)

FORM_FIELD = "skjema"
RECEIPT = "kvittering"
#: The console's headers, but no script at all (the page has none, and a public page
#: allows as little as it can), and the referrer: `same-origin` keeps the link from other
#: sites as `no-referrer` does, while the browser still says where a POST comes from
#: (under `no-referrer` its form posts carry `Origin: null`). Kept out of search engines.
PAGE_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}


def setup(app: web.Application) -> None:
    """After `event_links.setup`: `/svar/{token}.ics` is matched first."""
    app.router.add_get(LINK_PATH + "{token}", page)
    app.router.add_post(LINK_PATH + "{token}", answer)


def form_token(token: str, row: InvitationRow) -> str:
    """The form's token: keyed by the personal token, over the answer as it stands."""
    at = row.answered_at.isoformat() if row.answered_at is not None else ""
    version = f"svar:{row.answer}:{row.people}:{at}"
    return hmac.new(token.encode(), version.encode(), hashlib.sha256).hexdigest()


def cross_site(request: web.Request, public_url: str) -> bool:
    """Does the browser say this request comes from another site? `Sec-Fetch-Site`,
    which no page can set, when the browser sends it; else the `Origin`."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site != "same-origin"
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    public = urlsplit(public_url)
    ours = {f"{request.scheme}://{request.host}", f"{public.scheme}://{public.netloc}"}
    return origin not in ours


async def page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    services = request.app[SERVICES]
    loaded = await services.organisation()
    if loaded is None:
        return _not_found(request)
    async with services.sessions() as session:
        found = await by_token(session, token)
        if found is None:
            return _not_found(request)
        context = await _context(session, loaded, *found, token, services.clock())
    code = request.query.get(RECEIPT)
    if code is not None:
        context["confirmation"] = _confirmation(context, code)
    return _render(request, "svar/page.html", context)


async def answer(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    services = request.app[SERVICES]
    if cross_site(request, services.settings.public_url):
        log.warning("answer page: a form from another site refused")
        return _render(request, "svar/refused.html", {"back": LINK_PATH + token}, 403)
    form = await request.post()
    loaded = await services.organisation()
    if loaded is None:
        return _not_found(request)
    now = services.clock()
    async with services.sessions() as session, session.begin():
        found = await by_token(session, token)
        if found is None:
            return _not_found(request)
        event, mine = found
        await lock(session, event.id)  # the answer is read again under the event's lock
        await session.refresh(mine)
        read = read_form(_text(form, "svar"), _text(form, "antall"))
        sent = form.get(FORM_FIELD)
        fresh = isinstance(sent, str) and hmac.compare_digest(sent, form_token(token, mine))
        if not fresh and not (isinstance(read, FormAnswer) and _stands(read, mine)):
            context = await _context(session, loaded, event, mine, token, now)
            return _render(request, "svar/page.html", {**context, "notice": STALE}, 409)
        if isinstance(read, FormErrors):
            context = await _context(session, loaded, event, mine, token, now)
            return _render(request, "svar/page.html", {**context, **_errors(read)}, 400)
        taken = await take(
            session, loaded, services.settings, event.id, mine.foster_home_id, read.yes,
            read.people, "link", now,
        )  # fmt: skip
        assert taken is not None  # the invitation was found under the lock
        code = receipt(taken.outcome)
        if code is None:
            context = await _context(session, loaded, event, mine, token, now)
            refusal = _refusal(taken.outcome, say.confirmation(taken.event, taken.outcome, "link"))
            return _render(request, "svar/page.html", {**context, **refusal}, 409)
    if taken.changed:
        await after_change(services, event.id)
    raise web.HTTPSeeOther(f"{LINK_PATH}{token}?{RECEIPT}={code}", headers=PAGE_HEADERS)


def _stands(read: FormAnswer, mine: InvitationRow) -> bool:
    """Is `read` the answer that stands already? Then a form sent again (its token stale)
    is the repeat it looks like: taking it changes nothing, and it gets its receipt."""
    if not read.yes:
        return mine.answer == "no"
    return mine.answer in ("yes", "waitlist") and mine.people == read.people


def _text(form: Mapping[str, object], name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _errors(read: FormErrors) -> dict[str, Any]:
    return {
        "choice_error": read.choice,
        "people_error": read.people,
        "chosen": read.chosen,
        "people": read.typed,
    }


def _refusal(outcome: Outcome, text: str) -> dict[str, Any]:
    """An answer that changed nothing: too many people is told beside the number, a
    closed event above the page."""
    if isinstance(outcome, TooMany | NoRoomForMore):
        return {"people_error": text, "chosen": "ja"}
    assert isinstance(outcome, Closed)
    return {"notice": text}


async def _context(
    session: AsyncSession,
    loaded: LoadedOrg,
    event: EventRow,
    mine: InvitationRow,
    token: str,
    now: datetime,
) -> dict[str, Any]:
    tz = zone(loaded.org.helpline.timezone)
    home = mine.foster_home_id
    rows = await standing(session, event.id, home)
    replies = [reply(r) for r in rows]
    text = text_of(event, tz)
    shown = view(text, event.kind, facts(event), replies, home, now, event.cancel_reason)
    return {
        "view": shown,
        "action": LINK_PATH + token,
        "ics": f"{LINK_PATH}{token}.ics",
        "form_field": FORM_FIELD,
        "form_token": form_token(token, mine),
        "chosen": shown.chosen,
        "people": str(shown.people),
        "choice_error": None,
        "people_error": None,
        "notice": None,
        "confirmation": None,
        # What the receipt is checked against (not for the template).
        "_replies": replies,
        "_home": home,
        "_text": text,
    }


def _confirmation(context: Mapping[str, Any], code: str) -> str | None:
    outcome = confirmed(code, context["_replies"], context["_home"])
    return None if outcome is None else say.confirmation(context["_text"], outcome, "link")


def _not_found(request: web.Request) -> web.Response:
    return _render(request, "svar/not_found.html", {}, 404)


def _render(
    request: web.Request, template: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, dict(context), status=status)
    response.headers.update(PAGE_HEADERS)
    return response
