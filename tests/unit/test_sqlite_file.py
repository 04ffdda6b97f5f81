"""Making the SQLite file private must not open it when it exists: closing any descriptor
of a file drops every POSIX lock this process holds on it, SQLite's own included. Then
another process's last connection believes itself alone, checkpoints, and deletes the
-wal and -shm files under this process's open connections (and their next use fails
with "disk I/O error": a whole test run's SQLite database went so, after a test that ran
`helpline` as a child process)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from helpline.db.engine import private_sqlite_file


def test_an_open_database_keeps_its_wal_when_the_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "test.db"
    private_sqlite_file(path)
    held = sqlite3.connect(path)
    try:
        held.execute("PRAGMA journal_mode=WAL")
        held.execute("CREATE TABLE t (x)")
        held.execute("INSERT INTO t VALUES (1)")
        held.commit()
        held.execute("SELECT x FROM t").fetchall()  # a read lock on the WAL index

        private_sqlite_file(path)  # what every engine made in this process does first
        child = (
            f"import sqlite3; c = sqlite3.connect({str(path)!r}); "
            "c.execute('INSERT INTO t VALUES (2)'); c.commit(); c.close()"
        )
        subprocess.run([sys.executable, "-c", child], check=True, timeout=60)

        assert (tmp_path / "test.db-wal").exists(), "the child deleted the WAL under us"
        assert (tmp_path / "test.db-shm").exists()
        assert held.execute("SELECT count(*) FROM t").fetchone() == (2,)
    finally:
        held.close()


def test_a_new_file_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "new.db"
    private_sqlite_file(path)
    assert path.exists()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
