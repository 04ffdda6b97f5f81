"""`serve` and `worker` refuse sandbox mode on a public address before opening anything."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from helpline.cli import main
from helpline.commands.run import check_sandbox
from helpline.logs import HelplineHandler
from helpline.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def public_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "HELPLINE_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HELPLINE_PUBLIC_URL", "https://hjelp.example.no")
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_sandbox_on_a_public_address_exits_2_with_the_reason(
    public_sandbox: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: sandbox mode (no TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN) refused")
    assert "https://hjelp.example.no" in err and "HELPLINE_SANDBOX=1" in err
    assert not public_sandbox.exists()  # refused before the database or Redis was opened
    assert any(isinstance(h, HelplineHandler) for h in logging.getLogger().handlers)


def test_an_explicit_sandbox_on_a_public_address_is_a_loud_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings.from_mapping(
        {"HELPLINE_PUBLIC_URL": "https://hjelp.example.no", "HELPLINE_SANDBOX": "1"}
    )
    with caplog.at_level(logging.WARNING):
        check_sandbox(settings)
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "SANDBOX MODE ON A PUBLIC ADDRESS" in record.getMessage()
    caplog.clear()
    check_sandbox(Settings.from_mapping({"HELPLINE_PUBLIC_URL": "http://127.0.0.1:8080"}))
    assert caplog.records == []


def test_serve_refuses_a_metrics_port_that_is_its_public_port(
    public_sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_METRICS_PORT", "9108")
    assert main(["serve", "--port", "9108"]) == 2
    err = capsys.readouterr().err
    assert err == "error: HELPLINE_METRICS_PORT must not be the public port (9108)\n"
    assert not public_sandbox.exists()  # refused before anything was opened
