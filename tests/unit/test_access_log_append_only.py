"""The access log is append-only and outlives what it logs: one module writes it, nothing
updates or deletes it, and it has no foreign keys to cascade from."""

from __future__ import annotations

import ast
from pathlib import Path

from helpline.db.models import AccessLogRow

ROOT = Path(__file__).resolve().parents[2]
WRITER = ROOT / "helpline" / "access_log.py"
EXEMPT = {ROOT / "helpline" / "db" / "models.py"}  # where the table is declared


def service_modules() -> list[Path]:
    return sorted(
        p
        for p in (ROOT / "helpline").rglob("*.py")
        if "migrations" not in p.parts and p not in EXEMPT
    )


def test_only_the_access_log_module_touches_the_table() -> None:
    touching = [p for p in service_modules() if "AccessLogRow" in p.read_text()]
    assert touching == [WRITER]


def test_nothing_updates_or_deletes_the_access_log() -> None:
    tree = ast.parse(WRITER.read_text())
    calls = {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
    }
    assert calls & {"update", "delete", "merge", "execute"} == set()
    for path in service_modules():
        text = path.read_text().lower()
        assert "update access_log" not in text and "delete from access_log" not in text, path


def test_the_access_log_has_no_foreign_keys() -> None:
    assert AccessLogRow.__table__.foreign_keys == set()
