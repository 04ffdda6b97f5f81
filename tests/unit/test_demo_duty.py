"""The e2e tests' hand-written duty table against the rota engine on the demo file.

The e2e tests must not ask the engine what to expect; this test may: where it fails,
either the engine is wrong or `helpline/demo.toml` changed and `tests/e2e/demo_duty.py`
is stale.
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files

import pytest

from rota.engine import Rota
from rota.orgfile import parse_org
from tests.e2e.demo_duty import DEMO_DUTY, Chain

ROWS = [pytest.param(k, t, c, id=f"{k}-{t:%Y-%m-%dT%H:%M}Z") for (k, t), c in DEMO_DUTY.items()]


@pytest.fixture(scope="module")
def demo() -> Rota:
    return Rota(parse_org((files("helpline") / "demo.toml").read_text(encoding="utf-8")))


@pytest.mark.parametrize(("kommune", "at", "expected"), ROWS)
def test_the_hand_written_chain_is_the_engines(
    demo: Rota, kommune: str, at: datetime, expected: Chain
) -> None:
    assert demo.on_duty(kommune, at) == expected
