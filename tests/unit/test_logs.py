"""The logging set-up: what the redaction masks, and which loggers speak at which level."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from helpline.logs import (
    NOISY_LIBRARIES,
    MaskingAccessLogger,
    Redactor,
    configure_logging,
    settings_secrets,
)
from helpline.settings import Settings

BOT_TOKEN = "7012345678:AAE-fake_token_for_tests_0123456789ab"
AUTH_TOKEN = "fa" * 16


@pytest.mark.parametrize(
    ("line", "secret", "masked"),
    [
        (f"HTTP Request: POST http://x/bot{BOT_TOKEN}/getMe", BOT_TOKEN, "/bot***/getMe"),
        ("postgresql+asyncpg://helpline:hunter22@db/x", "hunter22", "helpline:***@db"),
        ("Authorization: Bearer abc.DEF-123", "abc.DEF-123", "Bearer ***"),
        ("Authorization: Basic QUM6c2VjcmV0", "QUM6c2VjcmV0", "Basic ***"),
        ('"GET /ical/AbC_d-12x.ics HTTP/1.1" 200', "AbC_d-12x", "/ical/***.ics"),
        ("GET /svar/Tok3n_x?ja=1", "Tok3n_x", "/svar/***?ja=1"),
        ("text: /start Lnk_t0ken-x", "Lnk_t0ken-x", "/start ***"),
        ("https://t.me/bot?start=Lnk_t0ken-x&a=1", "Lnk_t0ken-x", "start=***&a=1"),
        ("GET /login?code=123456", "123456", "code=***"),
        ("{'secret_token': 'w3bh00k', 'url': 'x'}", "w3bh00k", "'secret_token': '***'"),
        ("X-Telegram-Bot-Api-Secret-Token: w3bh00k", "w3bh00k", "Secret-Token: ***"),
        ("GET /x?api_key=k3y&token=t0k", "k3y", "api_key=***&token=***"),
        ("DETAIL:  Key (name)=(Familien Hansen) already exists.", "Hansen", "DETAIL:  ["),
        ("call from +4798765432 to +4767000001", "98765432", "+47•••••432 to +47•••••001"),
        ("To=%2B4798765432&From=%2B4767000001", "98765432", "To=+47•••••432&From="),
        ("typed +47 987 65 432 by hand", "987 65", "typed +47•••••432 by"),
        (f"Twilio said {AUTH_TOKEN}", AUTH_TOKEN, "Twilio said ***"),
    ],
)
def test_secrets_and_numbers_are_masked(line: str, secret: str, masked: str) -> None:
    redacted = Redactor([AUTH_TOKEN])(line)
    assert secret not in redacted and masked in redacted


@pytest.mark.parametrize(
    "line",
    [
        "2026-11-23 10:00:00,123 INFO helpline.outbox: sms 4 to +47•••••432 sent (notify)",
        "serving on http://127.0.0.1:8080 (sandbox=True)",
        "POST /twilio/voice/screened?contact=12&step=0 HTTP/1.1",
        "api token list: 3 tokens",
        "voice step dial failed (TimeoutError); answering the fallback",
        "WHERE calendar_feeds.token_hash = ?",
    ],
)
def test_ordinary_lines_are_left_alone(line: str) -> None:
    assert Redactor()(line) == line


def test_short_values_are_not_treated_as_secrets() -> None:
    assert Redactor(["abc"])("abc and abcdef") == "abc and abcdef"


def test_the_settings_secrets_include_passwords_in_service_urls() -> None:
    settings = Settings.from_mapping(
        {
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "HELPLINE_TELEGRAM_WEBHOOK_SECRET": "w3bh00k-s3cret",
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "HELPLINE_DATABASE_URL": "postgresql+asyncpg://u:db-pass-word@db/x",
            "HELPLINE_REDIS_URL": "redis://:redis-pass-word@cache:6379/0",
        }
    )
    assert set(settings_secrets(settings)) == {
        BOT_TOKEN,
        AUTH_TOKEN,
        "w3bh00k-s3cret",
        "db-pass-word",
        "redis-pass-word",
    }


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


def configured(verbose: bool, **env: str) -> io.StringIO:
    stream = io.StringIO()
    settings = Settings.from_mapping(
        {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": AUTH_TOKEN, **env}
    )
    configure_logging(settings, verbose=verbose, stream=stream)
    return stream


@pytest.mark.usefixtures("restore_logging")
def test_noisy_libraries_stay_at_warning_even_when_verbose() -> None:
    stream = configured(verbose=True)
    logging.getLogger("helpline.test").debug("our own debug line")
    logging.getLogger("httpx").info("HTTP Request: POST http://x/bot%s/getMe", BOT_TOKEN)
    logging.getLogger("twilio.http_client").info("-- BEGIN Twilio API Request --")
    logging.getLogger("sqlalchemy.engine.Engine").info("INSERT INTO messages ...")
    logging.getLogger("httpx").warning("a library warning")
    lines = stream.getvalue().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["our own debug line", "a library warning"]


@pytest.mark.usefixtures("restore_logging")
def test_library_debugging_is_an_opt_in_and_still_redacted() -> None:
    stream = configured(verbose=True, HELPLINE_DEBUG_LIBRARIES="1")
    logging.getLogger("httpx").info("HTTP Request: POST http://x/bot%s/getMe", BOT_TOKEN)
    logging.getLogger("twilio.http_client").info("POST Request: x?To=%s", "%2B4798765432")
    text = stream.getvalue()
    assert "/bot***/getMe" in text and BOT_TOKEN not in text
    assert "To=+47•••••432" in text and "98765432" not in text


@pytest.mark.usefixtures("restore_logging")
def test_payload_arguments_of_telegram_and_aiosqlite_are_hidden() -> None:
    stream = configured(verbose=True, HELPLINE_DEBUG_LIBRARIES="1")
    body = {"chat_id": 5550002, "text": "Vi trenger hjelp med Emil i kveld"}
    logging.getLogger("telegram.Bot").debug(
        "Calling Bot API endpoint `%s` with parameters `%s`", "sendMessage", body
    )
    logging.getLogger("aiosqlite").debug("executing %s", ("INSERT", ("Hemmelig tekst",)))
    text = stream.getvalue()
    assert "endpoint `sendMessage` with parameters `[payload hidden]`" in text
    assert "executing [payload hidden]" in text
    assert "Emil" not in text and "Hemmelig" not in text


@pytest.mark.usefixtures("restore_logging")
def test_a_record_propagated_from_a_child_logger_is_redacted_with_its_traceback() -> None:
    stream = configured(verbose=False)
    try:
        raise RuntimeError(f"Twilio refused auth token {AUTH_TOKEN} for +4798765432")
    except RuntimeError:
        logging.getLogger("helpline.some.child").exception("failed with %s", AUTH_TOKEN)
    text = stream.getvalue()
    assert "failed with ***" in text and "Traceback" in text
    assert "auth token *** for +47•••••432" in text
    assert AUTH_TOKEN not in text and "98765432" not in text


@pytest.mark.usefixtures("restore_logging")
def test_a_log_call_whose_arguments_do_not_fit_neither_raises_nor_leaks() -> None:
    stream = io.StringIO()
    handler = configure_logging(Settings.from_mapping({}), stream=stream)
    # Straight to our handler: pytest's own capture handler raises on such records.
    record = {"name": "helpline.test", "msg": "two %s %s", "args": ("+4798765432",)}
    handler.handle(logging.makeLogRecord(record))
    assert "two %s %s [payload hidden] (arguments did not fit" in stream.getvalue()
    assert "98765432" not in stream.getvalue()


@pytest.mark.usefixtures("restore_logging")
def test_configuring_twice_leaves_one_handler() -> None:
    first = configured(verbose=False)
    second = configured(verbose=False)
    logging.getLogger("helpline.test").info("once")
    assert first.getvalue() == "" and second.getvalue().count("once") == 1


def test_the_access_log_masks_tokens_in_paths_and_queries(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("aiohttp.access")
    access = MaskingAccessLogger(logger, "")
    for path in ("/ical/Cal3ndar-t0ken.ics", "/svar/Rsvp_t0ken?ja=2", "/x?token=Api-t0ken"):
        request = make_mocked_request("GET", path, headers={"User-Agent": "Kalender/1.0"})
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            access.log(request, web.Response(text="ok"), 0.01)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 3 and all("t0ken" not in line for line in lines)
    assert '"GET /ical/***.ics HTTP/1.1" 200' in lines[0]
    assert "/svar/***?ja=2" in lines[1] and "token=***" in lines[2]
    assert lines[0].endswith('"Kalender/1.0"')
