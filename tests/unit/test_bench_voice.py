"""The voice benchmark's pure parts: call plans, judging answers, its options.

No servers are started and nothing is timed here.
"""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.baseline import BASELINE_TWIML
from bench.harness import service_env
from bench.voice import (
    DEFAULT_REDIS_URL,
    DIALLED,
    _options,
    _parser,
    demo_callers,
    judge,
    main,
    plan_calls,
)
from bench.voice_report import Run
from helpline.settings import Settings
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN, signing_token

BASE = "http://127.0.0.1:18080"


def test_the_service_runs_in_sandbox_mode_signed_with_the_sandbox_token() -> None:
    inherited = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "real"}
    settings = Settings.from_mapping(service_env(inherited, 18080, Path("/tmp/x"), None, None))
    assert settings.sandbox
    assert signing_token(settings) == SANDBOX_AUTH_TOKEN
    assert settings.public_url == BASE


def test_plan_calls_distinct_sids_known_and_unknown_callers() -> None:
    known = demo_callers()
    assert "+4798765432" in known
    calls = plan_calls(1000, known, random.Random(1))
    assert len({c.sid for c in calls}) == 1000
    assert all(re.fullmatch(r"CA[0-9a-f]{32}", c.sid) for c in calls)
    from_known = sum(c.caller in known for c in calls)
    assert 350 < from_known < 650
    assert all(re.fullmatch(r"\+47[49]\d{7}", c.caller) for c in calls)
    assert plan_calls(10, known, random.Random(1)) == calls[:10]
    assert all(c.caller not in known for c in plan_calls(50, known, random.Random(2), 0.0))


def test_judge_and_run_accounting() -> None:
    good = f'<Response><Dial action="{BASE}{DIALLED}?contact=1&amp;step=0"/></Response>'
    assert judge(200, good, DIALLED) == "ok"
    fallback = "<Response><Dial><Number>+4740000000</Number></Dial></Response>"
    assert judge(200, fallback, DIALLED) == "fallback (dial)"
    assert judge(200, "<Response><Hangup/></Response>", DIALLED) == "fallback (no dial)"
    assert judge(403, "invalid Twilio signature", DIALLED) == "HTTP 403"
    assert judge(200, "anything") == "ok"
    run = Run([0.1, 0.2, 0.3], wall_s=0.5)
    run.record("ok", good, 100)
    run.record("HTTP 500", "boom")
    run.record("fallback (no dial)", "<Response/>")
    assert run.failures == 2 and run.kinds["ok"] == 1 and run.answer_bytes == 100
    assert run.first_error == "HTTP 500: boom"
    assert run.rps == pytest.approx(6.0)


def test_baseline_answer_is_twiml_of_the_services_shape() -> None:
    root = ET.fromstring(BASELINE_TWIML)
    assert root.tag == "Response"
    assert [child.tag for child in root] == ["Say", "Dial"]
    assert judge(200, BASELINE_TWIML, DIALLED) == "ok"
    assert 400 < len(BASELINE_TWIML.encode()) < 800


def test_embedded_refuses_urls() -> None:
    with pytest.raises(SystemExit):
        main(["--embedded", "--database-url", "sqlite+aiosqlite:///x.db"])


def test_the_stores_default_to_postgresql_and_redis_db_14() -> None:
    parser = _parser()
    options = _options(parser, parser.parse_args(["--calls", "5"]))
    assert (options.stores.database_url or "").startswith("postgresql")
    assert options.stores.redis_url == DEFAULT_REDIS_URL == "redis://127.0.0.1:6379/14"
    assert options.calls == 5 and options.reset
    embedded = _options(parser, parser.parse_args(["--embedded"]))
    assert embedded.stores.backend == "sqlite + embedded redis"
