"""Scheduled jobs (ops/wagtail_hooks.py): the page and "run now" are for administrators only."""

from __future__ import annotations

from tests.security.matrix import FORBIDDEN, LOGIN, METHOD, OK, REDIRECT, Rule, roles

RULES = [
    Rule(
        name="ops_jobs",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="each job's schedule, last run, last error and next run",
    ),
    Rule(
        name="ops_run_now",
        params=lambda org: {"name": "prune_job_runs"},
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=REDIRECT),
        note="queues the job at once; an unknown job is 404",
    ),
]
