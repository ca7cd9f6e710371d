"""Killed mid-run and run again: nothing lost, nothing duplicated, verify passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError

from caselens.config import Settings
from caselens.db.schema import items, log_records
from caselens.errors import StorageError
from caselens.services import Caselens
from tests.conftest import ADMIN, new_installation

FILES = 8000


def _items_saved(settings: Settings) -> int:
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(items)).scalar_one())
    except OperationalError:
        return 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("stop", ["kill -9 the process group", "SIGTERM to the coordinator"])
def test_stopped_mid_ingest_then_rerun(tmp_path: Path, database_url: str | None, stop: str) -> None:
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    app = Caselens(settings)
    app.users.init(ADMIN)
    app.cases.create(ADMIN, "C", "kill test", default_purpose="testing")
    source = tmp_path / "src"
    for group in range(10):
        folder = source / f"d{group}"
        folder.mkdir(parents=True)
        for index in range(FILES // 10):
            (folder / f"{index}.txt").write_text(f"message {group}-{index} " * 20)
    env = {**os.environ, "CASELENS_HOME": str(settings.home), "CASELENS_BATCH_SIZE": "50"}
    if database_url:
        env["CASELENS_DATABASE_URL"] = database_url
    command = [
        sys.executable,
        "-m",
        "caselens",
        "--as",
        "admin",
        "ingest",
        "C",
        str(source),
        "--workers",
        "2",
    ]
    log = (tmp_path / "first-run.log").open("w")
    process = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log
    )
    deadline = time.monotonic() + 120
    while _items_saved(settings) < 200:
        assert process.poll() is None, (tmp_path / "first-run.log").read_text()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    if stop.startswith("kill -9"):
        os.killpg(process.pid, signal.SIGKILL)  # the coordinator and its workers at once
        process.wait()
    else:
        process.send_signal(signal.SIGTERM)  # workers commit what they have, then stop
        assert process.wait(timeout=60) == 130
    saved = _items_saved(settings)
    assert 200 <= saved < FILES, "the kill should land mid-run"

    rerun = subprocess.run(
        [*command, "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    with app.runtime.transaction() as connection:
        total = connection.execute(select(func.count()).select_from(items)).scalar_one()
        distinct_paths = connection.execute(
            select(func.count(func.distinct(items.c.path)))
        ).scalar_one()
        states = dict(
            connection.execute(select(items.c.state, func.count()).group_by(items.c.state)).all()
        )
        custody = connection.execute(
            select(func.count())
            .select_from(log_records)
            .where(log_records.c.chain.like("custody:%"))
        ).scalar_one()
    assert total == distinct_paths == FILES
    assert states == {"ingested": FILES}
    assert custody == 2 * FILES
    report = app.verify.verify(ADMIN, "C")
    assert report.ok, report.problems
    leftovers = [p for p in (settings.blob_root / "tmp").rglob("*") if p.is_file()]
    assert leftovers == []
    app.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root")
def test_disk_full_aborts_cleanly_and_resumes(tmp_path: Path, database_url: str | None) -> None:
    home = tmp_path / "home"
    home.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(home)])
    if mounted.returncode != 0:
        pytest.skip("this machine does not allow mounting tmpfs")
    try:
        app = new_installation(home, database_url, "disk full", workers=2, batch_size=2)
        settings = app.settings
        source = tmp_path / "src"
        source.mkdir()
        for index in range(10):
            (source / f"{index}.bin").write_bytes(os.urandom(512 * 1024))
        with pytest.raises(StorageError, match="full"):
            app.ingest.ingest(ADMIN, "C", [str(source)])
        assert [p for p in (settings.blob_root / "tmp").rglob("*") if p.is_file()] == []
        report = app.verify.verify(ADMIN, "C")
        assert report.ok, report.problems
        subprocess.run(["mount", "-o", "remount,size=64m", str(home)], check=True)
        summary = app.ingest.ingest(ADMIN, "C", [str(source)])
        assert summary.already_present + summary.processed == 10
        assert app.items.status(ADMIN, "C").items == 10
        assert app.verify.verify(ADMIN, "C").ok
        app.close()
    finally:
        subprocess.run(["umount", "-l", str(home)])
