from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand

from assessments.demo import seed_assessments, seed_results
from cms.demo import seed_history, seed_staff_work
from dossiers.demo import seed_dossiers
from learning.demo import seed_courses
from live.demo import seed_lectures
from people.demo import DEMO_PASSWORD, seed_people, seed_released_people
from plans.demo import seed_plans

# Each app that has demo content has a seeder; they run in this order. The command lives in
# ``cms``, the top layer, because it builds on every app.
DEMO_SEEDERS = [
    seed_people,
    seed_assessments,
    seed_courses,
    seed_lectures,
    seed_released_people,  # after last week's lecture, before the history of their months
    seed_history,  # twelve months of lectures, study, leave, follow-up; then the rollups
    seed_results,  # after the history: a signed review drafts a plan from it
    seed_plans,  # after the lectures: an approved plan's lecture series books them
    seed_staff_work,  # a lesson in review for the editor, the follow-up policy row
    seed_dossiers,  # after the history: the released persons' files, compiled from it
]


# Seeding publishes pages, each running Wagtail's search and reference-index tasks: hundreds of
# "Task … state=RUNNING" and "Page created" lines would bury the logins and the server's start
# in `make run`'s output. Warnings and errors still show.
QUIET_LOGGERS = ("django_tasks", "wagtail")


@contextmanager
def quiet(names: tuple[str, ...] = QUIET_LOGGERS) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = "Create (or refresh) the demo bureau, staff, persons and content. Idempotent."

    def handle(self, *args, **options):
        logins: list[tuple[str, str]] = []
        with quiet():
            for seed in DEMO_SEEDERS:
                result = seed()
                if result:
                    logins.extend(result)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
        self.stdout.write(f"All demo accounts use the password: {DEMO_PASSWORD}")
        staff = [(u, r) for u, r in logins if r != "learner"]
        learners = [u for u, r in logins if r == "learner"]
        for username, role in staff:
            self.stdout.write(f"  {username:<12} {role}")
        if learners:
            self.stdout.write(f"  {learners[0]} … {learners[-1]:<6} learner ({len(learners)})")
        if staff:
            self.stdout.write(
                "Staff accounts use two-step sign-in: on the first visit to /admin/ each one "
                "sets up an authenticator app (scan the QR code) and receives recovery codes."
            )
