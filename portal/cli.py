"""Flask CLI commands, all in one place."""

from __future__ import annotations

import time
from typing import Any

import click
from flask import Flask

from portal.extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option(
        "--with-applications",
        is_flag=True,
        help="Also submit a few demo applications for the case officer's work queue.",
    )
    def seed_demo_command(with_applications: bool) -> None:
        """Load the demo districts, councils, ruleset and accounts (idempotent)."""
        from portal.demo import seed_demo, seed_demo_applications, seed_demo_initiatives

        result = seed_demo()
        db.session.commit()
        click.echo(
            f"Demo data ready: {result['districts']} districts, {result['councils']} councils, "
            f"{result['accounts_created']} new accounts."
        )
        if with_applications:
            from portal.notifications.dispatch import dispatch_committed

            made = seed_demo_applications()
            initiatives = seed_demo_initiatives()
            db.session.commit()
            dispatch_committed()  # the receipts: to the worker, or delivered here without Redis
            click.echo(f"{made} demo applications submitted, {initiatives} demo initiatives.")

    @app.cli.command("send-reminders")
    def send_reminders_command() -> None:
        """Send what is due by the clock: reminders (accounting, council advice, decision
        deadlines, information requests) and daily digests, each once. The worker does this every
        15 minutes on RQ's scheduler; without Redis, run this from cron."""
        from portal.background import run_periodic

        counts = run_periodic()
        click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))

    @app.cli.command("relay-outbox")
    @click.option("--every", type=float, default=0, help="Repeat every N seconds (0: once).")
    def relay_outbox_command(every: float) -> None:
        """Hand waiting notifications to the queue (or deliver them without Redis). With Redis,
        also make sure the next periodic tick is on RQ's scheduler (after a Redis restart it is
        gone); without Redis, run the periodic work itself every 15 minutes."""
        from portal.background import TICK_MINUTES, run_periodic, schedule_tick
        from portal.notifications.jobs import relay_outbox

        ticked_at = 0.0
        while True:
            try:
                if app.config["PORTAL_REDIS_URL"]:
                    schedule_tick()
                elif time.monotonic() - ticked_at > TICK_MINUTES * 60:
                    run_periodic()
                    ticked_at = time.monotonic()
                count = relay_outbox()
                if count:
                    click.echo(f"relayed {count} notifications")
            except Exception as error:  # keep the loop alive while Redis or the database restarts
                db.session.rollback()
                click.echo(f"relay failed, retrying: {error}", err=True)
            if not every:
                break
            time.sleep(every)

    @app.cli.command("seed-scale")
    @click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
    @click.option("--applications", type=click.IntRange(0), default=100_000, show_default=True)
    @click.option("--initiatives", type=click.IntRange(0), default=20_000, show_default=True)
    @click.option("--users", type=click.IntRange(200), default=50_000, show_default=True)
    @click.option(
        "--today",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="The day the data leads up to (default: today in Europe/Amsterdam).",
    )
    def seed_scale_command(
        seed: int, applications: int, initiatives: int, users: int, today: Any
    ) -> None:
        """Fill an empty PostgreSQL database with realistic data at city scale (applications in
        every state, initiatives, users, money), reproducibly; see portal/scale.py. Every account
        has the demo password."""
        from portal.scale import ScaleRefused, seed_scale

        click.echo(
            f"seed-scale --seed {seed}: {applications:,} applications, {initiatives:,} "
            f"initiatives, {users:,} users"
        )
        try:
            seed_scale(
                seed=seed,
                applications=applications,
                initiatives=initiatives,
                users=users,
                today=today.date() if today else None,
                echo=click.echo,
            )
        except ScaleRefused as error:
            raise click.ClickException(str(error)) from error
        click.echo(
            "Every generated account has the demo password: bewoner-00001@schaal.wijkkracht.nl "
            "(residents), behandelaar-0001@ (case officers), wijkorgaan-0001@ (councils), "
            "financien-01@, beheerder-01@."
        )
