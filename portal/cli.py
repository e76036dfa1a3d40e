"""Flask CLI commands, all in one place."""

from __future__ import annotations

import time

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
        from portal.demo import seed_demo, seed_demo_applications

        result = seed_demo()
        db.session.commit()
        click.echo(
            f"Demo data ready: {result['districts']} districts, {result['councils']} councils, "
            f"{result['accounts_created']} new accounts."
        )
        if with_applications:
            made = seed_demo_applications()
            db.session.commit()
            click.echo(f"{made} demo applications submitted.")

    @app.cli.command("send-reminders")
    def send_reminders_command() -> None:
        """Send due reminders: accounting, council advice, decision deadlines (each once)."""
        from portal.money.settlement import send_accounting_reminders
        from portal.reviews.reminders import send_review_reminders

        sent = send_accounting_reminders() + send_review_reminders()
        db.session.commit()
        click.echo(f"{sent} reminders sent")

    @app.cli.command("relay-outbox")
    @click.option("--every", type=float, default=0, help="Repeat every N seconds (0: once).")
    def relay_outbox_command(every: float) -> None:
        """Hand waiting notifications to the queue (or deliver them without Redis)."""
        from portal.money.settlement import send_accounting_reminders
        from portal.notifications.jobs import relay_outbox
        from portal.reviews.reminders import send_review_reminders

        reminded_at = 0.0
        while True:
            try:
                # Reminders are due by the day: looking once an hour is plenty.
                if time.monotonic() - reminded_at > 3600:
                    if send_accounting_reminders() + send_review_reminders():
                        db.session.commit()
                    reminded_at = time.monotonic()
                count = relay_outbox()
                if count:
                    click.echo(f"relayed {count} notifications")
            except Exception as error:  # keep the loop alive while Redis or the database restarts
                db.session.rollback()
                click.echo(f"relay failed, retrying: {error}", err=True)
            if not every:
                break
            time.sleep(every)
