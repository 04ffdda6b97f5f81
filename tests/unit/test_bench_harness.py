"""What the benchmarks share: the service's environment, quantiles, figure tables and
documents, the store options. No servers are started and nothing is timed here."""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.figures import Columns, Figure, figure_table, figures_document, percentile
from bench.harness import (
    DEFAULT_DATABASE_URL,
    Stores,
    add_store_options,
    chosen_stores,
    service_env,
)
from helpline.settings import Settings

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


def test_the_service_runs_in_sandbox_mode_on_its_own_url(tmp_path: Path) -> None:
    inherited = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "real", "PORT": "1"}
    settings = Settings.from_mapping(service_env(inherited, 18081, tmp_path, None, None))
    assert settings.sandbox and settings.public_url == "http://127.0.0.1:18081"
    assert settings.data_dir == tmp_path


FIGURES = [
    Figure("rps", "throughput", 1234.5, "req/s"),
    Figure("p99", "p99", 3.14159, "ms", "< 50 ms", True),
    Figure("late", "lateness", 12.345, "s", "< 2 s", False),
    Figure("count", "conversations", 1000.0, ""),
    Figure("bytes", "answer size", 512.4, "B"),
]


def test_the_figure_table_lines_up_and_marks_missed_targets() -> None:
    lines = figure_table(FIGURES, Columns(label=14, value=10, unit=6, whole_units=("", "B")))
    assert lines == [
        "figure             value unit   target     status",
        "throughput       1,234.5 req/s",
        "p99                3.142 ms     < 50 ms    ok",
        "lateness            12.3 s      < 2 s      MISSED",
        "conversations      1,000",
        "answer size          512 B",
    ]
    two = figure_table(FIGURES[1:2], Columns(label=4, value=6, unit=3, decimals=2))
    assert two[1] == "p99   3.14 ms  < 50 ms    ok"


def test_the_figures_document_has_null_for_nothing_measured() -> None:
    document = figures_document([*FIGURES[:2], Figure("p50", "p50", math.nan, "s")])
    assert list(document) == ["rps", "p99", "p50"]
    assert document["p99"] == {
        "key": "p99",
        "label": "p99",
        "value": 3.14159,
        "unit": "ms",
        "target": "< 50 ms",
        "ok": True,
    }
    assert document["p50"]["value"] is None


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser()
    add_store_options(made, "redis://127.0.0.1:6379/13")
    return made


def test_the_store_options_default_to_postgresql_or_embedded() -> None:
    made = parser()
    defaults = chosen_stores(made, made.parse_args([]), "redis://127.0.0.1:6379/13")
    assert defaults == Stores(DEFAULT_DATABASE_URL, "redis://127.0.0.1:6379/13")
    assert defaults.backend == "postgresql + redis"
    chosen = made.parse_args(["--database-url", "postgresql://h/x", "--redis-url", "redis://h/2"])
    assert chosen_stores(made, chosen, "redis://unused") == Stores(
        "postgresql://h/x", "redis://h/2"
    )
    embedded = chosen_stores(made, made.parse_args(["--embedded"]), "redis://unused")
    assert embedded == Stores() and embedded.backend == "sqlite + embedded redis"


def test_embedded_with_a_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    made = parser()
    args = made.parse_args(["--embedded", "--redis-url", "redis://h/1"])
    with pytest.raises(SystemExit):
        chosen_stores(made, args, "redis://unused")
    assert "--embedded runs on SQLite" in capsys.readouterr().err


def test_the_rota_bench_loads_no_service_library() -> None:
    """`bench.rota` reports its process's memory: its figures must not bring aiohttp & co."""
    check = (
        "import sys, bench.rota; "
        "print(sorted({'aiohttp', 'redis', 'sqlalchemy'} & set(sys.modules)))"
    )
    command = [sys.executable, "-c", check]
    loaded = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "[]"
