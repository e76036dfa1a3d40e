"""After the commit: hand new notifications to the worker, or deliver them in-process.

If Redis is configured but unreachable, nothing is lost: the rows stay ``waiting`` and the
relay in ``worker.py`` hands them over once Redis is back.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app
from redis.exceptions import RedisError
from rq.serializers import JSONSerializer

from portal.extensions import rq
from portal.notifications.services import take_committed_ids, take_committed_jobs

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    _use_json_serializer(app)

    @app.after_request
    def _dispatch_after_request(response: Response) -> Response:
        dispatch_committed()
        return response


def _use_json_serializer(app: Flask) -> None:
    """Flask-RQ builds its queues with RQ's default (pickle) serializer; jobs here take ids and
    primitives only, so JSON is enough and safer. Rebuild the queues with it."""
    from rq import Queue

    queues = rq._queues[app]
    for name, queue in list(queues.items()):
        queues[name] = Queue(
            name,
            connection=queue.connection,
            is_async=queue._is_async,
            job_class=queue.job_class,
            serializer=JSONSerializer,
        )


def redis_configured() -> bool:
    return bool(current_app.config.get("PORTAL_REDIS_URL"))


def dispatch_committed() -> None:
    ids = take_committed_ids()
    if ids:
        hand_over(ids)
    for job, args in take_committed_jobs():
        if not redis_configured():
            job(*args)
            continue
        try:
            job.enqueue(*args)
        except (RedisError, OSError) as error:
            log.warning("Redis unavailable, job %s%s not queued: %s", job.__name__, args, error)


def hand_over(ids: list[int]) -> None:
    from portal.notifications.jobs import deliver, deliver_notification

    if not redis_configured():
        for notification_id in ids:
            deliver(notification_id)
        return
    try:
        for notification_id in ids:
            deliver_notification.enqueue(notification_id, result_ttl=3600)
    except (RedisError, OSError) as error:
        # The rows are committed and waiting; the relay will hand them over later.
        log.warning("Redis unavailable, %s notifications wait for the relay: %s", len(ids), error)
