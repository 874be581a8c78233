"""The worker's scheduler: Asia/Shanghai time, and every job limited to one coalesced run."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from ledger.application import SupportLedger
from projections.worker import TIMEZONE, build_scheduler

PROVIDER = '''
def add_jobs(scheduler, app):
    scheduler.add_job(lambda: None, "interval", minutes=5, id="fake.sign", max_instances=3)
    scheduler.add_job(lambda: None, "cron", hour=2, id="fake.verify", coalesce=False)
'''


def test_the_worker_hosts_other_packages_jobs_each_limited_to_one_coalesced_run(
    app: SupportLedger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fake_jobs_provider.py").write_text(PROVIDER)
    monkeypatch.syspath_prepend(str(tmp_path))
    said: list[str] = []
    scheduler = build_scheduler(
        app, threading.Event(), providers=("fake_jobs_provider", "no_such_provider"),
        say=said.append,
    )  # fmt: skip
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"projections.follow", "fake.sign", "fake.verify"}
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True, job.id
    assert str(scheduler.timezone) == str(TIMEZONE) == "Asia/Shanghai"
    assert "added jobs from fake_jobs_provider" in said
    assert "no job provider no_such_provider" in said
    sys.modules.pop("fake_jobs_provider", None)
