"""The scheduler process: every few seconds, queue the jobs of ``ops/schedule.py`` that are
due (``ops.scheduler.enqueue_due``). ``make run`` starts it beside the web server and the
worker (``Procfile``); under systemd it is ``jiaozheng-scheduler.service`` (docs/deploy.md).
Run one (a second one is harmless: each slot is claimed once)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from ops.scheduler import enqueue_due, seconds_to_sleep, uses_worker


class Command(BaseCommand):
    help = "Queue the scheduled jobs when they are due (ops/schedule.py). Stops on SIGTERM/SIGINT."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="queue what is due now, then exit (for cron)"
        )

    def handle(self, *args, **options):
        stop = threading.Event()
        if not options["once"]:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            where = "db_worker runs them" if uses_worker() else "run here (immediate backend)"
            self.stdout.write(f"scheduler started: jobs are queued when due; {where}")
        while not stop.is_set():
            for run in enqueue_due():
                self.stdout.write(f"{run.enqueued_at:%H:%M:%S} {run.job}: {run.status}")
            if options["once"]:
                break
            stop.wait(seconds_to_sleep())
            # Between passes only: a connection that broke or aged while the loop slept is
            # dropped (never the caller's, with --once: it may be inside a transaction).
            close_old_connections()
