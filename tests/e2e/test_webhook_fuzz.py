"""Fuzzing every webhook: correctly signed random forms and queries to each Twilio route,
random JSON and update-shaped JSON (with the right secret) to the Telegram route.

What must hold for every request: no 5xx, and a refused one (4xx) changes no table. The
service runs with the demo organisation, a call in progress, an open conversation, and a
linked staff member and foster home on Telegram, so the fuzz reaches the deep paths too.

The app runs in an event loop of the test's own (`asyncio.Runner`), so each test can
count the requests its hypothesis run made and assert them; `pytest -s` prints them.
"""

from __future__ import annotations

import asyncio
import json
import os
import string
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from yarl import URL

from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import Base, ContactRow
from helpline.linking import create_link_token
from helpline.web.twilio_auth import signing_token
from tests.conftest import FrozenClock, app_client, make_settings
from tests.e2e.demo_duty import ASKER_MONDAY_10, MONDAY_10
from tests.e2e.twilio_driver import incoming
from tests.fakes.telegram_api import FAKE_BOT_TOKEN, FakeTelegram, FakeUser, running_fake_telegram

pytestmark = pytest.mark.e2e

#: `HELPLINE_FUZZ_EXAMPLES` explores further by hand; CI runs the same examples each time
#: (derandomized), so a red CI always names a reproducible case.
EXAMPLES = int(os.environ.get("HELPLINE_FUZZ_EXAMPLES", "100"))
SECRET = "webhook-secret-for-fuzzing"
ASKER_LINE, HANSEN, STRANGER = "+4767000001", "+4798765432", "+4790000001"
STAFF_USER = FakeUser(id=5550001, first_name="Vakt")
PARENT_USER = FakeUser(id=5550002, first_name="Forelder")
STRANGER_USER = FakeUser(id=5550003, first_name="Ukjent")
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Pairs = list[tuple[str, str]]


@dataclass
class Tally:
    """What one fuzz test sent and how it was answered."""

    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def tried(self) -> int:
        return sum(self.statuses.values())

    def report(self, name: str) -> str:
        refused = sum(n for status, n in self.statuses.items() if 400 <= status < 500)
        statuses = dict(sorted(self.statuses.items()))
        return (
            f"fuzz {name}: {self.tried} requests, {refused} refused (4xx), "
            f"0 x 5xx, 0 stored on refusal; statuses {statuses}"
        )


@dataclass
class World:
    """The running service and the state the fuzz aims at."""

    runner: asyncio.Runner
    services: Services
    client: TestClient[web.Request, web.Application]
    fake: FakeTelegram
    contact_id: int
    staff_phone: str

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    async def counts(self) -> tuple[int, ...]:
        """The row count of every table, in one round trip."""
        counts = [
            select(func.count()).select_from(table).scalar_subquery()
            for table in Base.metadata.sorted_tables
        ]
        async with self.services.sessions() as session:
            row = (await session.execute(select(*counts))).one()
        return tuple(row)

    async def post_twilio(self, path: str, query: Pairs, form: Pairs) -> int:
        # As aiohttp's client sends it: yarl unquotes what needs no quoting (`!`, `/`, `@`).
        target = str(URL(path + (f"?{urlencode(query)}" if query else "")))
        first: dict[str, str] = {}
        for key, value in form:
            first.setdefault(key, value)  # what a captured signature covers
        url = self.services.settings.public_url + target
        signature = RequestValidator(signing_token(self.services.settings)).compute_signature(
            url, first
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": str(signature),
        }
        return await self._checked(self.client.post(target, data=urlencode(form), headers=headers))

    async def post_telegram(self, body: bytes) -> int:
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
        return await self._checked(
            self.client.post("/telegram/webhook", data=body, headers=headers)
        )

    async def _checked(self, sending: Any) -> int:
        before = await self.counts()
        response = await sending
        text = await response.text()
        assert response.status < 500, (response.status, text)
        if 400 <= response.status < 500:
            assert await self.counts() == before, f"a refused request changed a table: {text}"
        return int(response.status)


@pytest.fixture(scope="module")
def world(data_dir: Path, database_url: str, redis_url: str) -> Iterator[World]:
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        try:
            yield runner.run(_open_world(runner, stack, data_dir, database_url, redis_url))
        finally:
            runner.run(stack.aclose())


async def _open_world(
    runner: asyncio.Runner,
    stack: AsyncExitStack,
    data_dir: Path,
    database_url: str,
    redis_url: str,
) -> World:
    clock = FrozenClock(MONDAY_10)
    fake = await stack.enter_async_context(running_fake_telegram())
    settings = replace(
        make_settings(data_dir, database_url, redis_url),
        telegram_bot_token=FAKE_BOT_TOKEN,
        telegram_api_base=fake.base_url,
        telegram_webhook_secret=SECRET,
    )
    services = await stack.enter_async_context(open_services(settings, clock=clock))
    await services.redis.flushdb()
    async with services.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
    await load_text(services, demo_text())
    client = await app_client(services)
    stack.push_async_callback(client.close)
    assert services.telegram is not None
    await services.telegram.set_webhook(str(client.server.make_url("/telegram/webhook")), SECRET)
    primary = ASKER_MONDAY_10[0]  # Ola Berg: linked on Telegram, and a staff sender
    assert primary.person is not None
    for user, kind, target in (
        (STAFF_USER, "person", primary.person),
        (PARENT_USER, "foster_home", "hansen"),
    ):
        async with services.sessions() as session, session.begin():
            token, _ = await create_link_token(session, kind, target, clock())
        assert await fake.deliver(fake.start_update(user, token)) == 200
    signature = RequestValidator(signing_token(settings)).compute_signature(
        settings.public_url + "/twilio/voice", incoming("CA-fuzz", HANSEN, ASKER_LINE)
    )
    response = await client.post(
        "/twilio/voice",
        data=incoming("CA-fuzz", HANSEN, ASKER_LINE),
        headers={"X-Twilio-Signature": str(signature)},
    )
    assert response.status == 200
    async with services.sessions() as session:
        contact_id = await session.scalar(select(func.max(ContactRow.id)))
    assert contact_id is not None
    return World(runner, services, client, fake, contact_id, primary.phone)


# -- strategies ------------------------------------------------------------------------------

ODD = [
    "", "0", "1", "²", "١٢", "-1", "99999999999", "abc", "CA" + "a" * 32, HANSEN, STRANGER,
    ASKER_LINE, "anonymous", "completed", "no-answer", "busy", "canceled", "in-progress",
    "https://api.twilio.com/rec/RE1", "javascript:alert(1)", "#", "*1#", "x" * 40, "\x00",
    "\n", "æøå", "#K1 JA", "#K999999999999 hei", "STOPP", "🙂" * 3,
]  # fmt: skip
VALUE = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=40),
    st.text(alphabet=string.digits, max_size=12),
)
TWILIO_FIELDS = [
    "CallSid", "ParentCallSid", "DialCallSid", "MessageSid", "AccountSid", "RecordingSid",
    "From", "To", "Caller", "Called", "CallStatus", "DialCallStatus", "CallDuration",
    "DialCallDuration", "RecordingDuration", "RecordingUrl", "Digits", "Body", "NumMedia",
]  # fmt: skip
KEY = st.one_of(st.sampled_from(TWILIO_FIELDS), st.text(max_size=12))


@st.composite
def mutated(draw: st.DrawFn, template: dict[str, str], known: list[str]) -> Pairs:
    """`template`, each time a quarter of the time: with keys dropped, with known keys given
    odd values, with extra keys; an eighth of the time with a key repeated."""

    def now_and_then(one_in: int) -> bool:
        return draw(st.integers(1, one_in)) == one_in

    pairs = dict(template)
    if template and now_and_then(4):
        for key in draw(st.sets(st.sampled_from(sorted(template)), min_size=1, max_size=2)):
            del pairs[key]
    if now_and_then(4):
        pairs.update(draw(st.dictionaries(st.sampled_from(known), VALUE, min_size=1, max_size=3)))
    if now_and_then(4):
        pairs.update(draw(st.dictionaries(KEY, VALUE, min_size=1, max_size=3)))
    items = list(pairs.items())
    if items and now_and_then(8):
        items.append((draw(st.sampled_from([key for key, _ in items])), draw(VALUE)))
    return items


def twilio_requests(world: World, path: str) -> st.SearchStrategy[tuple[Pairs, Pairs]]:
    contact = str(world.contact_id)
    call = incoming("CA-fuzz", HANSEN, ASKER_LINE)
    sms = {
        "MessageSid": "SM0",
        "From": HANSEN,
        "To": ASKER_LINE,
        "Body": "Hei",
        "AccountSid": "AC" + "0" * 32,
        "NumMedia": "0",
    }
    forms: dict[str, dict[str, str]] = {
        "/twilio/voice": call,
        "/twilio/voice/screen": {"CallSid": "CA-leg0", "To": world.staff_phone},
        "/twilio/voice/screened": {"CallSid": "CA-leg0", "Digits": "1"},
        "/twilio/voice/dialled": {**call, "DialCallStatus": "no-answer"},
        "/twilio/voice/recorded": {**call, "RecordingUrl": "https://api.twilio.com/r/RE1",
                                   "RecordingDuration": "12"},
        "/twilio/status": {**call, "CallStatus": "completed", "CallDuration": "30"},
        "/twilio/sms": sms,
    }  # fmt: skip
    queries: dict[str, dict[str, str]] = {
        "/twilio/voice/recorded": {"contact": contact},
        **dict.fromkeys(
            ("/twilio/voice/screen", "/twilio/voice/screened", "/twilio/voice/dialled"),
            {"contact": contact, "step": "0"},
        ),
    }
    sid = st.one_of(st.just("CA-fuzz"), st.from_regex(r"CA[0-9a-f]{8}", fullmatch=True))
    sender = st.sampled_from([HANSEN, STRANGER, world.staff_phone])
    replies = [
        f"#K{contact} Vi ringer snart.",
        f"#K{contact} JA",
        f"#K{contact} LUKK skole",
        f"#K{2**31} Vi ringer snart.",
    ]
    body = st.one_of(VALUE, st.sampled_from([*replies, "Hei, vi trenger hjelp"]))
    template = st.fixed_dictionaries(
        {
            "CallSid": sid,
            "MessageSid": st.from_regex(r"SM[0-9a-f]{8}", fullmatch=True),
            "From": sender,
            "Body": body,
        }
    ).map(lambda drawn: {**forms[path], **{k: v for k, v in drawn.items() if k in forms[path]}})
    return template.flatmap(
        lambda form: st.tuples(
            mutated(queries.get(path, {}), ["contact", "step"]),
            mutated(form, TWILIO_FIELDS),
        )
    )


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(ODD),
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def odd(draw: st.DrawFn, value: Any, one_in: int = 12) -> Any:
    """`value`, or now and then any JSON value instead."""
    return draw(JSON) if draw(st.integers(1, one_in)) == one_in else value


@st.composite
def telegram_updates(draw: st.DrawFn, world: World) -> dict[str, Any]:
    """An update as Telegram sends one, from a linked or unknown user, in a private or a
    group chat, now and then with any JSON in place of one of its fields."""
    user = draw(st.sampled_from([STAFF_USER, PARENT_USER, STRANGER_USER]))
    chat = draw(st.sampled_from([user.as_chat(), {"id": -100123, "title": "G", "type": "group"}]))
    contact = world.contact_id
    texts = [
        "/start",
        "/start abc",
        f"#K{contact} JA",
        f"#K{contact} Vi ringer.",
        "STOPP",
        f"#K{2**31} JA",
    ]
    message: dict[str, Any] = {
        "message_id": odd(draw, draw(st.integers(1, 10**6))),
        "date": odd(draw, draw(st.integers(0, 2**31))),
        "chat": odd(draw, {"id": odd(draw, chat["id"]), "type": odd(draw, chat["type"])}),
        "from": odd(draw, user.as_user()),
        "text": odd(draw, draw(st.one_of(VALUE, st.sampled_from(texts)))),
    }
    if draw(st.booleans()):
        message["reply_to_message"] = odd(
            draw, {"message_id": draw(st.integers(1, 10**6)), "date": 0, "chat": chat}
        )
    update: dict[str, Any] = {"update_id": odd(draw, draw(st.integers(0, 2**40)))}
    if draw(st.booleans()):
        update["message"] = message
        return update
    data = [
        f"take:{contact}",
        f"close:{contact}",
        f"cat:{contact}:1",
        f"cat:{contact}:99",
        "x:y",
        "take:abc",
    ]
    update["callback_query"] = {
        "id": odd(draw, draw(st.from_regex(r"[0-9]{1,19}", fullmatch=True))),
        "from": odd(draw, user.as_user()),
        "chat_instance": "1",
        "message": odd(draw, message),
        "data": odd(draw, draw(st.one_of(st.sampled_from(data), VALUE))),
    }
    return update


def known_twilio_cases(world: World, path: str) -> list[tuple[Pairs, Pairs]]:
    """Requests that were a 5xx, or stored something, before the webhooks were hardened:
    always tried, besides what hypothesis draws."""
    contact = str(world.contact_id)
    sms = {"MessageSid": "SM-known", "From": world.staff_phone, "To": ASKER_LINE}
    call = incoming("CA-fuzz", HANSEN, ASKER_LINE)
    cases: dict[str, list[tuple[Pairs, Pairs]]] = {
        "/twilio/sms": [
            ([], [*sms.items(), ("Body", f"#K{2**31} Vi ringer snart.")]),
            ([], [*sms.items(), ("From", "+47" + "9" * 40), ("Body", "Hei")]),
            ([], [("From", HANSEN), ("Body", "uten MessageSid")]),
        ],
        "/twilio/status": [([], [*call.items(), ("CallStatus", "completed"),
                                 ("CallDuration", "²")]),
                           # a message's status: malformed, missing, and a carrier stop
                           ([], [("MessageSid", "SM-known"), ("MessageStatus", "delivered"),
                                 ("ErrorCode", "21610x")]),
                           ([], [("MessageSid", "SM-known"), ("From", HANSEN)]),
                           ([], [("MessageSid", "SM-known"), ("MessageStatus", "failed"),
                                 ("To", HANSEN), ("ErrorCode", "21610")])],
        "/twilio/voice/screen": [([("contact", "99999999999"), ("step", "0")],
                                  [("CallSid", "CA-leg0")])],
        "/twilio/voice/dialled": [([("contact", contact), ("step", "0")],
                                   [*call.items(), ("DialCallStatus", "x" * 30)])],
    }  # fmt: skip
    return cases.get(path, [])


def known_telegram_cases(world: World) -> list[dict[str, Any]]:
    """Updates that were a 5xx before the webhook was hardened."""
    message = world.fake.message_update(STAFF_USER, f"#K{2**31} JA")
    tap = {
        "update_id": 10**9,
        "callback_query": {
            "id": "1",
            "from": STAFF_USER.as_user(),
            "chat_instance": "1",
            "message": message["message"],
            "data": "x:y",
        },
    }
    text_chat_id = {**message["message"], "chat": {"id": "1", "type": "private"}}
    return [message, tap, {"update_id": 10**9 + 1, "message": text_chat_id}]


# -- the fuzz tests ---------------------------------------------------------------------------

TWILIO_PATHS = [
    "/twilio/voice", "/twilio/voice/screen", "/twilio/voice/screened", "/twilio/voice/dialled",
    "/twilio/voice/recorded", "/twilio/status", "/twilio/sms",
]  # fmt: skip


@pytest.mark.parametrize("path", TWILIO_PATHS)
def test_signed_random_twilio_webhooks_never_5xx_and_refusals_store_nothing(
    world: World, path: str
) -> None:
    tally = Tally()

    def one(request: tuple[Pairs, Pairs]) -> None:
        query, form = request
        tally.statuses[world.run(world.post_twilio(path, query, form))] += 1

    for known in known_twilio_cases(world, path):
        one = example(known)(one)
    FUZZ(given(twilio_requests(world, path))(one))()
    print(tally.report(path))
    assert tally.tried >= EXAMPLES // 2
    assert tally.statuses[403] == 0, "every fuzz request is signed: none may fail the check"
    assert tally.statuses[200] > 0 and tally.statuses[400] > 0


def test_random_json_to_the_telegram_webhook_never_5xx_and_refusals_store_nothing(
    world: World,
) -> None:
    tally = Tally()

    @FUZZ
    @given(st.one_of(JSON.map(lambda value: json.dumps(value).encode()), st.binary(max_size=60)))
    def one(body: bytes) -> None:
        tally.statuses[world.run(world.post_telegram(body))] += 1

    one()
    print(tally.report("/telegram/webhook (random JSON)"))
    assert tally.tried >= EXAMPLES // 2 and tally.statuses[400] > 0


def test_random_telegram_updates_never_5xx_and_refusals_store_nothing(world: World) -> None:
    tally = Tally()

    def one(update: dict[str, Any]) -> None:
        tally.statuses[world.run(world.post_telegram(json.dumps(update).encode()))] += 1

    for known in known_telegram_cases(world):
        one = example(known)(one)
    FUZZ(given(telegram_updates(world))(one))()
    print(tally.report("/telegram/webhook (updates)"))
    assert tally.tried >= EXAMPLES // 2
    assert tally.statuses[200] > 0 and tally.statuses[400] > 0
