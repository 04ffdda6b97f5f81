"""The voice benchmark's pure parts: quantiles, signing, call plans, judging answers.

No servers are started and nothing is timed here.
"""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from bench.harness import percentile
from bench.voice import (
    BASELINE_TWIML,
    DIALLED,
    VOICE_PATH,
    Call,
    Run,
    demo_callers,
    incoming_call,
    judge,
    main,
    plan_calls,
    service_env,
    signed_request,
)
from helpline.settings import Settings
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN, signing_token

SANDBOX_TOKEN = SANDBOX_AUTH_TOKEN

BASE = "http://127.0.0.1:18080"


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile(values, 0.001) == 1.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([1.0, 2.0, 3.0], 0.5) == 2.0


@pytest.mark.parametrize("q", [0.0, -0.1, 1.5])
def test_percentile_refuses_quantiles_outside_0_1(q: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], q)


def test_percentile_refuses_no_values() -> None:
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_signed_request_passes_the_real_validator() -> None:
    form = incoming_call(Call("CA" + "1" * 32, "+4798765432"))
    request = signed_request(SANDBOX_TOKEN, BASE + "/", VOICE_PATH, form)
    assert request.url == BASE + VOICE_PATH
    assert request.form == form
    signature = request.headers["X-Twilio-Signature"]
    assert RequestValidator(SANDBOX_TOKEN).validate(request.url, form, signature)
    assert not RequestValidator("another token").validate(request.url, form, signature)
    assert not RequestValidator(SANDBOX_TOKEN).validate(
        request.url, {**form, "From": "+4790000000"}, signature
    )
    assert not RequestValidator(SANDBOX_TOKEN).validate(BASE + "/twilio/sms", form, signature)


def test_the_service_runs_in_sandbox_mode_signed_with_the_sandbox_token() -> None:
    inherited = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "real"}
    settings = Settings.from_mapping(service_env(inherited, 18080, Path("/tmp/x"), None, None))
    assert settings.sandbox
    assert signing_token(settings) == SANDBOX_AUTH_TOKEN
    assert settings.public_url == BASE


def test_service_env_scrubs_inherited_settings() -> None:
    inherited = {
        "PATH": "/usr/bin",
        "HELPLINE_ORG_FILE": "/etc/org.toml",
        "HELPLINE_DATABASE_URL": "postgresql+asyncpg://prod/db",
        "TWILIO_ACCOUNT_SID": "AC1",
        "TWILIO_AUTH_TOKEN": "secret",
        "TELEGRAM_BOT_TOKEN": "1:abc",
        "PORT": "9999",
    }
    env = service_env(inherited, 18080, Path("/tmp/data"), None, None)
    assert env == {
        "PATH": "/usr/bin",
        "HELPLINE_DATA_DIR": "/tmp/data",
        "HELPLINE_PUBLIC_URL": BASE,
    }
    urls = service_env({}, 1, Path("/d"), "postgresql+asyncpg://h/test", "redis://h/14")
    assert urls["HELPLINE_DATABASE_URL"] == "postgresql+asyncpg://h/test"
    assert urls["HELPLINE_REDIS_URL"] == "redis://h/14"


def test_incoming_call_is_twilios_form() -> None:
    form = incoming_call(Call("CA" + "a" * 32, "+4798765432"))
    assert form["CallSid"] == "CA" + "a" * 32
    assert form["From"] == form["Caller"] == "+4798765432"
    assert form["To"] == form["Called"] == "+4767000001"
    assert form["CallStatus"] == "ringing" and form["Direction"] == "inbound"


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
