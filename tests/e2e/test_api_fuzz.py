"""The API fuzzed from its own OpenAPI document with schemathesis.

Requests are generated from `/api/openapi.json` (valid ones and ones that break the
schema) and sent over HTTP to the running app, with a valid token, an expired one and
none. The result must be: no 5xx, every response as the document says, and a refused
request (any 4xx) leaves every table exactly as it was, the access log included.

schemathesis is synchronous (requests), so the cases run in a thread while the test's
event loop serves the app; database snapshots are handed back to that loop.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from helpline.bootstrap import Services
from tests.conftest import FrozenClock
from tests.e2e.api_setup import (
    ADMIN_TOKEN,
    ASKER_TOKEN,
    EXPIRED_TOKEN,
    MONDAY_10,
    Client,
    snapshot,
    started,
)

pytestmark = pytest.mark.e2e

# Each generated case is sent with every token: 2 operations x 2 modes (valid requests,
# schema-breaking ones) x 60 cases x 4 tokens = 960 requests.
EXAMPLES = 60
TOKENS = (ADMIN_TOKEN, ASKER_TOKEN, EXPIRED_TOKEN, None)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
Snapshot = list[tuple[str, str]]


@dataclass
class Tally:
    tried: int = 0
    server_errors: int = 0
    refused: int = 0
    stored_by_refused: int = 0
    statuses: Counter[int] = field(default_factory=Counter)


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = MONDAY_10
    client = await started(services)
    yield client
    await client.close()


async def test_the_api_fuzzed_from_its_openapi_document(
    client: Client, services: Services, record_property: Callable[[str, object], None]
) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    loop = asyncio.get_running_loop()

    def take_snapshot() -> Snapshot:
        future: Future[Snapshot] = asyncio.run_coroutine_threadsafe(snapshot(services), loop)
        return future.result(timeout=30)

    base_url = str(client.make_url("")).rstrip("/")
    tally = await asyncio.to_thread(fuzz, schema, base_url, take_snapshot)
    for name in ("tried", "server_errors", "refused", "stored_by_refused"):
        record_property(name, getattr(tally, name))
    print(
        f"\nfuzz: {tally.tried} requests, {tally.server_errors} x 5xx, {tally.refused} refused"
        f" storing {tally.stored_by_refused} rows; statuses {dict(tally.statuses)}"
    )
    assert tally.server_errors == 0 and tally.stored_by_refused == 0
    assert tally.tried >= 500
    assert {200, 400, 401, 404} <= set(tally.statuses)


def fuzz(schema: Any, base_url: str, take_snapshot: Callable[[], Snapshot]) -> Tally:
    fuzzer = Fuzzer(base_url, take_snapshot)
    with fuzzer.session:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                fuzzer.run(operation, mode)
    return fuzzer.tally


class Fuzzer:
    """Sends generated cases, checks each answer, and compares the tables around it."""

    def __init__(self, base_url: str, take_snapshot: Callable[[], Snapshot]) -> None:
        self.base_url = base_url
        self.take_snapshot = take_snapshot
        self.session = requests.Session()
        self.tally = Tally()
        self.before = take_snapshot()

    def run(self, operation: Any, mode: GenerationMode) -> None:
        cases = operation.as_strategy(mode, headers={"Authorization": "Bearer -"})

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases)
        def send(case: Any) -> None:
            for token in TOKENS:
                if token is None:
                    case.headers.pop("Authorization", None)  # no token at all
                else:
                    case.headers["Authorization"] = f"Bearer {token}"
                response = case.call(base_url=self.base_url, session=self.session)
                self.check(case, response)

        send()

    def check(self, case: Any, response: Any) -> None:
        tally = self.tally
        tally.tried += 1
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors += 1
        case.validate_response(response, checks=CHECKS)  # hypothesis shrinks what fails
        after = self.take_snapshot()
        if 400 <= response.status_code < 500:
            tally.refused += 1
            gone, new = Counter(self.before) - Counter(after), Counter(after) - Counter(self.before)
            tally.stored_by_refused += gone.total() + new.total()
        self.before = after
