"""Background work: the worker that runs jobs, and the periodic tick on RQ's scheduler.

Jobs run inside the worker process itself (RQ's ``SimpleWorker``), in the app context, one after
another. Nothing forks, so no database connection is ever shared across a fork, and a job starts
in milliseconds instead of the second or two a fresh Python process needs. Every job takes ids
and primitives only (JSON), reloads its rows and checks their state; the session is removed
after each job so the next one starts clean.

The periodic work (reminders, the daily digest) is one job, ``periodic_tick``, scheduled with
``enqueue_at`` on RQ's scheduler (``worker.work(with_scheduler=True)``, one active scheduler per
Redis). Its job id names the time slot, so any number of workers or relays that schedule the same
slot create one job; each tick schedules the next. The relay checks the next slot every time it
runs, so the chain survives a Redis restart. The tick itself is idempotent: running it twice, or
on two workers at once, sends every reminder and digest once (unique dedupe keys).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue
from rq.serializers import JSONSerializer

from portal.extensions import db, rq

log = logging.getLogger(__name__)

TICK_MINUTES = 15


class AppWorker(SimpleWorker):
    """Runs each job in this process and app context; the session is cleaned after each."""

    def perform_job(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            db.session.remove()


def make_worker(**kwargs: Any) -> AppWorker:
    queues = list(rq.queues.values())
    return AppWorker(
        queues,
        connection=queues[0].connection,
        job_class=queues[0].job_class,
        serializer=JSONSerializer,
        **kwargs,
    )


def run_periodic(now: datetime | None = None) -> dict[str, int]:
    """Everything that is due by the clock: reminders and digests. Safe to run at any time, as
    often as you like, also concurrently: each message is stored once (its dedupe key)."""
    from portal.applications.reminders import send_info_request_reminders
    from portal.money.settlement import send_accounting_reminders
    from portal.notifications.digest import send_digests
    from portal.reviews.reminders import send_review_reminders

    counts = {
        "accounting": send_accounting_reminders(),
        "review": send_review_reminders(),
        "information": send_info_request_reminders(),
    }
    db.session.commit()
    counts["digests"] = send_digests(now)
    db.session.commit()
    return counts


def slot_after(moment: datetime) -> datetime:
    """The first tick time strictly after ``moment`` (every TICK_MINUTES, on the clock)."""
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    minutes = TICK_MINUTES - moment.minute % TICK_MINUTES
    return moment + timedelta(minutes=minutes)


def tick_job_id(slot: datetime) -> str:
    return f"wijkkracht-tick-{slot:%Y%m%dT%H%M}"


def schedule_tick(after: datetime | None = None) -> str:
    """Put the next tick on RQ's scheduler (idempotent: the job id is the slot)."""
    slot = slot_after(after or datetime.now(UTC))
    job_id = tick_job_id(slot)
    if Job.exists(job_id, connection=rq.queue.connection):
        return job_id
    periodic_tick.enqueue_at(slot, job_id=job_id, result_ttl=3600, failure_ttl=24 * 3600)
    return job_id


@rq.job
def periodic_tick() -> dict[str, int]:
    """RQ job: schedule the next tick first (so a failing tick does not stop the chain), then run
    what is due."""
    if current_app.config.get("PORTAL_REDIS_URL"):
        schedule_tick()
    counts = run_periodic()
    log.info("periodic tick: %s", counts)
    return counts
