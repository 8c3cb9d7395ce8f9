from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from people.demo import DEMO_PASSWORD

# Each app that has demo content adds its seeder here; they run in this order.
DEMO_SEEDERS = [
    "people.demo.seed_people",
    "assessments.demo.seed_assessments",
    "learning.demo.seed_courses",
    "live.demo.seed_lectures",
    "plans.demo.seed_plans",  # after the lectures: an approved plan's lecture series books them
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo bureau, staff, persons and content. Idempotent."

    def handle(self, *args, **options):
        logins: list[tuple[str, str]] = []
        for dotted in DEMO_SEEDERS:
            result = import_string(dotted)()
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
