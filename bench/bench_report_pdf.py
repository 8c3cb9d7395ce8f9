"""PDF report of one result (``report.result_pdf``): time per report and pages per second.

Each report is built from the database as the download view builds it (profile, answers,
history with reliable change, signed review). The naive baseline validates the instrument
definition at every use (three times per report), as ``InstrumentVersion.as_definition`` did
before it kept validated published definitions.
"""

from __future__ import annotations

import re

from bench.common import best_of

PAGE = re.compile(rb"/Type /Page\b(?!s)")
HISTORY = 8  # earlier results of the same person and questionnaire


def _results():
    """A PHQ-9 and an SDS result, each with HISTORY earlier results and a signed review."""
    import datetime as dt

    import numpy as np
    from django.contrib.auth.models import Group

    from assessments.models import Result
    from assessments.services import INSTRUMENTS_DIR, do_load_instrument, read_instrument_file
    from assessments.taking import do_assign, do_review, do_save_answer, do_submit
    from people.models import Caseload, Office, OfficeKind, Person, User
    from people.roles import Role

    existing = Result.objects.filter(person__case_number="BENCH-PDF-1")
    if existing.exists():
        return [
            existing.filter(instrument_version__instrument__slug=s).first() for s in ("phq9", "sds")
        ]
    for slug in ("phq9", "sds"):
        do_load_instrument(read_instrument_file(INSTRUMENTS_DIR / f"{slug}.json"))
    office = Office.add_root(name="示范区司法局（基准）", code="bench-pdf", kind=OfficeKind.BUREAU)
    counselor = User.objects.create(username="bench-pdf-counselor", name="王老师", password="!")  # noqa: S106
    counselor.groups.add(Group.objects.get(name=Role.COUNSELOR))
    learner = User.objects.create(username="bench-pdf-learner", name="张三", password="!")  # noqa: S106
    start = dt.date(2026, 1, 1)
    person = Person.objects.create(
        user=learner,
        case_number="BENCH-PDF-1",
        full_name="张三",
        office=office,
        category="normal",
        supervision_start=start,
        supervision_end=start + dt.timedelta(days=365),
    )
    Caseload.objects.create(person=person, counselor=counselor)
    rng = np.random.default_rng(5)
    latest = []
    for slug, items, options in (("phq9", 9, 4), ("sds", 20, 4)):
        result = None
        for _ in range(HISTORY + 1):
            assignment = do_assign(slug, person, counselor)
            for number, option in enumerate(rng.integers(0, options, size=items), start=1):
                do_save_answer(assignment, number, int(option))
            result = do_submit(assignment)
        do_review(
            result,
            counselor,
            "近三个月情绪总体平稳，睡眠问题仍在；建议继续每月面谈，并关注家庭支持情况。" * 6,
            "感谢您认真填写。我们下次见面时再一起聊聊最近的睡眠和心情。",
        )
        latest.append(Result.objects.select_related("review").get(pk=result.pk))
    return latest


def _fresh(pk: int):
    from assessments.models import Result

    return Result.objects.select_related(
        "person__office", "instrument_version__instrument", "response", "review__counselor"
    ).get(pk=pk)


def run() -> list[dict]:
    from django.utils import translation

    from assessments import models
    from assessments.report import result_pdf

    rows = []
    with translation.override("zh-hans"):
        for result in _results():
            pages = len(PAGE.findall(result_pdf(_fresh(result.pk))))

            def ours(pk=result.pk):
                return result_pdf(_fresh(pk))

            def naive(pk=result.pk):
                models._DEFINITIONS.clear()
                return result_pdf(_fresh(pk))

            took = best_of(ours, repeat=20)
            rows.append(
                {
                    "name": f"PDF report, one {result.instrument_version.instrument.slug} result",
                    "ours": took,
                    "naive": best_of(naive, repeat=20),
                    "note": f"{pages} page(s), {pages / took:.1f} pages/s; naive: validate per use",
                }
            )
    return rows
