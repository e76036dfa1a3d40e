"""Wijkkracht's background worker: RQ worker(s) with RQ's scheduler, and the outbox relay.

    python worker.py                 one worker and one relay (the usual case)
    python worker.py --workers 3     three workers on this machine
    python worker.py --burst         work off the queue and stop (used by tests)

Every machine may run its own ``worker.py`` against the same Redis and database: jobs are
claimed by one worker each, and a notification is claimed in the database before it is sent,
so two workers never send the same mail. When Redis restarts, the workers reconnect; mail
that was committed meanwhile waits in the database and the relay hands it over.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType

os.environ.setdefault("FLASK_APP", "portal:create_app")

log = logging.getLogger("wijkkracht.worker")


def run_worker(burst: bool) -> None:
    """One RQ worker in this process, inside the app context, reconnecting after Redis outages."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from portal import create_app
    from portal.background import make_worker, schedule_tick
    from portal.extensions import db

    app = create_app()
    if not app.config["PORTAL_REDIS_URL"]:
        sys.exit("PORTAL_REDIS_URL is not set: without Redis the portal delivers in-process.")
    with app.app_context():
        # Jobs run in this process, one after another (portal.background.AppWorker): nothing
        # forks, so no database connection is shared across a fork.
        db.engine.dispose()
        while True:
            try:
                if not burst:
                    schedule_tick()
                worker = make_worker()
                worker.work(with_scheduler=True, burst=burst)
                return
            except RedisConnectionError as error:
                if burst:
                    raise
                log.warning("Redis unavailable (%s); retrying in 5 seconds", error)
                time.sleep(5)


def supervise(workers: int, relay_every: float) -> None:
    """Start the workers and the relay as child processes; restart any that stops."""
    python = sys.executable
    commands = [[python, __file__, "--single"] for _ in range(workers)]
    commands.append([python, "-m", "flask", "relay-outbox", "--every", str(relay_every)])
    children: list[subprocess.Popen[bytes] | None] = [None] * len(commands)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        for index, command in enumerate(commands):
            child = children[index]
            if child is None or child.poll() is not None:
                if child is not None:
                    log.warning("%s stopped with %s; restarting", command[-1], child.returncode)
                children[index] = subprocess.Popen(command)  # noqa: S603 - our own commands
        time.sleep(1)
    for child in children:
        if child is not None and child.poll() is None:
            child.terminate()
    for child in children:
        if child is not None:
            child.wait(timeout=30)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="workers on this machine")
    parser.add_argument("--relay-every", type=float, default=15, help="seconds between relays")
    parser.add_argument("--burst", action="store_true", help="empty the queue, then stop")
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single or args.burst:
        run_worker(burst=args.burst)
    else:
        supervise(max(1, args.workers), args.relay_every)


if __name__ == "__main__":
    main()
