"""A real `helpline serve` with `HELPLINE_LOG_FORMAT=json` and a metrics port: every log
line is one JSON object, a request's lines carry its id, no secret or number reaches them,
and `/metrics` answers on its own port but not on the public one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from bench.harness import free_port
from helpline.commands.org import demo_text
from helpline.db.engine import make_engine, migrate
from helpline.simulator.forms import incoming_sms
from helpline.twilio_signing import SIGNATURE_HEADER
from helpline.web.request_ids import HEADER
from tests.e2e.test_outage import call
from tests.e2e.test_serve_logging import FEED_TOKEN, wait_until_up
from tests.e2e.twilio_driver import incoming

pytestmark = pytest.mark.e2e

BODY = "Emil har stukket av igjen, ring oss"
OUR_ID = "proxy-req.0042_abc"


async def test_json_logs_carry_request_ids_and_no_secrets_and_metrics_stay_off_the_public_port(
    tmp_path: Path,
) -> None:
    port, metrics_port, data_dir = free_port(), free_port(), tmp_path / "var"
    engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'helpline.db'}")
    await migrate(engine)
    await engine.dispose()
    org_file = tmp_path / "org.toml"
    org_file.write_text(demo_text(), encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HELPLINE_", "TWILIO_", "TELEGRAM_"))
    }
    env |= {
        "HELPLINE_DATA_DIR": str(data_dir),
        "HELPLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HELPLINE_ORG_FILE": str(org_file),
        "HELPLINE_LOG_FORMAT": "json",
        "HELPLINE_METRICS_PORT": str(metrics_port),
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = ("-m", "helpline.cli", "serve", "--port", str(port), "--no-jobs")
        process = await asyncio.create_subprocess_exec(
            sys.executable, *serve, env=env, stdout=out, stderr=out
        )
    base, metrics_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"
    try:
        await wait_until_up(base)
        status, _ = await call(base, "CA-json-logged")
        assert status == 200
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/ical/{FEED_TOKEN}.ics") as feed:
                assert feed.status == 404
                generated = feed.headers[HEADER]
            forged = incoming_sms("SM-json-forged", "+4798765432", "+4767000001", BODY)
            headers = {SIGNATURE_HEADER: "forged", HEADER: OUR_ID}
            async with http.post(f"{base}/twilio/sms", data=forged, headers=headers) as refused:
                assert refused.status == 403
                assert refused.headers[HEADER] == OUR_ID
            phone_as_id = {HEADER: "4798765432", SIGNATURE_HEADER: "forged"}
            second = incoming("CA-json-2", "+4798765432", "+4767000001")
            url = f"{base}/twilio/voice"
            async with http.post(url, data=second, headers=phone_as_id) as replaced:
                assert replaced.headers[HEADER] != "4798765432"
            async with http.get(f"{base}/metrics") as public:
                assert public.status == 404
            async with http.get(f"{metrics_base}/metrics") as scraped:
                assert scraped.status == 200
                exposition = await scraped.text()
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    text = log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]  # every line is one object
    assert lines and all(
        {"time", "level", "logger", "message", "request_id"} <= set(x) for x in lines
    )
    ours = [line for line in lines if line["request_id"] == OUR_ID]
    assert {line["logger"] for line in ours} == {"helpline.web.twilio_auth", "aiohttp.access"}
    [access] = [line for line in ours if line["logger"] == "aiohttp.access"]
    assert access["route"] == "/twilio/sms" and access["status"] == 403
    [feed_line] = [line for line in lines if line["request_id"] == generated]
    assert feed_line["route"] == "/ical/***.ics"  # the pattern, redacted like a path
    assert FEED_TOKEN not in text and "98765432" not in text
    assert "Familien Hansen" not in text and "Emil" not in text
    assert 'helpline_http_request_duration_seconds_count{method="POST",route="/twilio/voice"' in (
        exposition
    )
