"""`HELPLINE_LOG_FORMAT=json`: one redacted object a line, with the request id, and only
the safe extra fields; and which incoming request ids are kept."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from helpline.logs import (
    ACCESS_REQUEST_ID,
    NOISY_LIBRARIES,
    REQUEST_ID,
    MaskingAccessLogger,
    configure_logging,
)
from helpline.settings import Settings
from helpline.web.request_ids import request_id

BOT_TOKEN = "7012345678:AAE-fake_token_for_tests_0123456789ab"
AUTH_TOKEN = "fa" * 16
PHONE = "+4798765432"
BODY = "Vi trenger hjelp med Emil i kveld"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`configure_logging` changes the process's logging: put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    libraries = {name: logging.getLogger(name).level for name in NOISY_LIBRARIES}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, library_level in libraries.items():
        logging.getLogger(name).setLevel(library_level)


def json_logging(**env: str) -> io.StringIO:
    stream = io.StringIO()
    settings = Settings.from_mapping(
        {
            "TWILIO_ACCOUNT_SID": "AC1",
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "HELPLINE_LOG_FORMAT": "json",
            **env,
        }
    )
    configure_logging(settings, verbose=True, stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.usefixtures("restore_logging")
def test_each_line_is_one_object_with_the_fixed_fields() -> None:
    stream = json_logging()
    logging.getLogger("helpline.test").info("sms %d sent (%s)", 4, "notify")
    [line] = lines(stream)
    assert set(line) == {"time", "level", "logger", "message", "request_id"}
    assert line["level"] == "INFO" and line["logger"] == "helpline.test"
    assert line["message"] == "sms 4 sent (notify)"
    assert line["request_id"] is None  # outside a web request
    assert str(line["time"]).endswith("+00:00")


@pytest.mark.usefixtures("restore_logging")
def test_the_request_id_of_the_context_is_on_the_line() -> None:
    stream = json_logging()
    token = REQUEST_ID.set("req-abc-123")
    try:
        logging.getLogger("helpline.web").warning("refused")
    finally:
        REQUEST_ID.reset(token)
    logging.getLogger("helpline.web").warning("after")
    assert [line["request_id"] for line in lines(stream)] == ["req-abc-123", None]


@pytest.mark.usefixtures("restore_logging")
def test_a_bot_token_a_phone_number_and_a_message_body_do_not_reach_the_line() -> None:
    stream = json_logging(HELPLINE_DEBUG_LIBRARIES="1")
    log = logging.getLogger("helpline.test")
    log.info("POST http://x/bot%s/sendMessage to %s", BOT_TOKEN, PHONE)
    logging.getLogger("telegram.Bot").debug(
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "sendMessage",
        {"chat_id": 5550002, "text": BODY},
    )
    log.info("stored", extra={"body": BODY, "caller": PHONE, "contact_id": 7, "route": PHONE})
    text = stream.getvalue()
    assert BOT_TOKEN not in text and "98765432" not in text and "Emil" not in text
    first, library, stored = lines(stream)
    assert first["message"] == "POST http://x/bot***/sendMessage to +47•••••432"
    assert str(library["message"]).endswith("with parameters `[payload hidden]`")
    assert "body" not in stored and "caller" not in stored  # not safe fields: left out
    assert stored["contact_id"] == 7 and stored["route"] == "+47•••••432"  # safe, redacted


@pytest.mark.usefixtures("restore_logging")
def test_an_exception_is_one_redacted_field_of_the_same_line() -> None:
    stream = json_logging()
    try:
        raise RuntimeError(f"Twilio refused {AUTH_TOKEN} for {PHONE}")
    except RuntimeError:
        logging.getLogger("helpline.outbox").exception("send failed")
    [line] = lines(stream)
    assert line["message"] == "send failed"
    exc = str(line["exc"])
    assert exc.startswith("Traceback") and "refused *** for +47•••••432" in exc
    assert AUTH_TOKEN not in exc


@pytest.mark.usefixtures("restore_logging")
def test_the_access_log_line_names_its_request_and_route_fields() -> None:
    stream = json_logging()
    request = make_mocked_request("GET", "/ical/Cal3ndar-t0ken.ics")
    request[ACCESS_REQUEST_ID] = "req-from-middleware"
    MaskingAccessLogger(logging.getLogger("aiohttp.access"), "").log(
        request, web.Response(status=404), 0.0125
    )
    [line] = lines(stream)
    assert line["request_id"] == "req-from-middleware"
    assert line["method"] == "GET" and line["status"] == 404 and line["duration_s"] == 0.0125
    assert "t0ken" not in json.dumps(line)


@pytest.mark.usefixtures("restore_logging")
def test_text_stays_the_default_format() -> None:
    stream = io.StringIO()
    configure_logging(Settings.from_mapping({}), stream=stream)
    logging.getLogger("helpline.test").info("plain")
    assert stream.getvalue().rstrip().endswith("INFO helpline.test: plain")


@pytest.mark.parametrize(
    "incoming",
    ["4f1c2a9e-77b0-4c1e-9d2e-0a1b2c3d4e5f", "req.abc_DEF-12", "a1b2c3d4", "x" * 64],
)
def test_a_short_safe_incoming_request_id_is_kept(incoming: str) -> None:
    assert request_id(incoming) == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        None,
        "",
        "short",  # under 8
        "x" * 65,  # over 64
        "4798765432",  # a phone number
        "req-98765432-x",  # a run of 8 digits inside
        "+4798765432",
        "Familien Hansen",
        "abc\r\nX-Evil: 1",
        "id/with/slashes",
        "æøå-request",
    ],
)
def test_anything_else_is_replaced_by_an_id_of_our_own(incoming: str | None) -> None:
    replaced = request_id(incoming)
    assert replaced != incoming
    assert len(replaced) == 16 and int(replaced, 16) >= 0
