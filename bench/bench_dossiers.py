"""The education-and-assistance file (``dossiers``): one busy person's file, and a month of
releases compiled one after another as the worker does.

A busy person: 12 months of study records, 40 lessons studied (36 completed, 4 under way),
12 required lectures (two missed and made up),
8 reviewed questionnaire results, 3 plan versions with 4 reviews, 6 excused absences with
their evidence (4 phone photos of a typed note, 2000×1500 pixels; 2 PDFs of 2 pages). Ours
is ``do_compile_dossier`` (one consistent read, both copies rendered and written). The naive
baseline reads record by record (a query per month under supervision, per lecture for its
makeup, per questionnaire for its response, result and review) before rendering the same.
"""

from __future__ import annotations

from bench.common import best_of

RELEASES = 100


def _office():
    from people.models import Office, OfficeKind

    office = Office.objects.filter(code="bench-dossiers").first()
    return office or Office.add_root(
        name="示范区司法局（档案基准）", code="bench-dossiers", kind=OfficeKind.BUREAU
    )


def _user(username: str, role: str):
    from django.contrib.auth.models import Group

    from people.models import User

    user, created = User.objects.get_or_create(username=username, defaults={"name": username})
    if created:
        user.groups.add(Group.objects.get(name=role))
    return user


def _person(number: int, office, officer, counselor, *, busy: bool):
    """A person released yesterday after a year; ``busy`` adds results and plans."""
    import datetime as dt

    from django.utils import timezone

    from live.models import Attendance, AttendancePolicy, Lecture, Makeup
    from participation.models import AbsenceRequest, PersonMonth
    from people.models import Caseload, Person

    today = timezone.localdate()
    end = today - dt.timedelta(days=1)
    start = end - dt.timedelta(days=364)
    learner = _user(f"bench-dossier-{number}", "learner")
    person = Person.objects.create(
        user=learner,
        case_number=f"BENCH-DOSSIER-{number}",
        full_name=f"人员{number}",
        office=office,
        category="normal",
        supervision_start=start,
        supervision_end=end,
        case_officer=officer,
    )
    Caseload.objects.create(person=person, counselor=counselor)
    month = start.replace(day=1)
    months = []
    while month <= end:
        months.append(
            PersonMonth(
                person=person,
                period=month,
                office=office,
                category="normal",
                status="met",
                study_minutes=500,
                quota_minutes=480,
                computed_at=timezone.now(),
            )
        )
        month = (month + dt.timedelta(days=32)).replace(day=1)
    PersonMonth.objects.bulk_create(months)
    lecturer = _user("bench-dossier-lecturer", "lecturer")
    for index in range(12):
        moment = timezone.make_aware(dt.datetime.combine(start, dt.time(19))) + dt.timedelta(
            days=30 * index + 3
        )
        lecture = Lecture.objects.create(
            title=f"法治讲座第{index + 1}讲",
            lecturer=lecturer,
            start=moment,
            end=moment + dt.timedelta(hours=1),
            room_name=f"bench-dossier-{number}-{index}",
        )
        missed = index % 6 == 5
        Attendance.objects.create(
            lecture=lecture,
            person=person,
            status="absent" if missed else "present",
            policy=AttendancePolicy.objects.current(),
            computed_at=timezone.now(),
        )
        if missed:
            Makeup.objects.create(
                person=person,
                lecture=lecture,
                kind="recording",
                due_date=moment.date() + dt.timedelta(days=14),
                completed_at=moment + dt.timedelta(days=5),
            )
    for index in range(6):
        AbsenceRequest.objects.create(
            person=person,
            period=months[index * 2].period,
            requirement_key=f"lecture:{index}",
            requirement="法治讲座",
            reason="生病住院",
            filed_at=timezone.now(),
            status="approved",
        )
    if busy:
        _lessons(person, start)
        _evidence(person)
        _results(person, counselor)
        _plans(person, counselor, start)
    return person


def _lessons(person, start) -> None:
    """40 lessons of 4 courses, 36 completed over the year, 4 under way (the file lists each)."""
    import datetime as dt

    from django.utils import timezone
    from wagtail.models import Site

    from courses.models import CourseIndexPage, CoursePage, LessonPage
    from learning.models import Enrollment, LessonProgress

    index = CourseIndexPage.objects.first() or Site.objects.get(
        is_default_site=True
    ).root_page.add_child(instance=CourseIndexPage(title="课程", slug="courses"))
    made = []
    for c in range(4):
        index.refresh_from_db()
        course = index.add_child(
            instance=CoursePage(title=f"档案基准课程 {c + 1}", slug=f"bench-dossier-course-{c + 1}")
        )
        Enrollment.objects.create(person=person, course=course)
        for n in range(10):
            course.refresh_from_db()
            made.append(
                course.add_child(
                    instance=LessonPage(
                        title=f"第 {c + 1}.{n + 1} 课", slug=f"lesson-{n + 1}", expected_seconds=900
                    )
                )
            )
    began = timezone.make_aware(dt.datetime.combine(start, dt.time(20)))
    LessonProgress.objects.bulk_create(
        LessonProgress(
            person=person,
            lesson=lesson,
            credited_seconds=900 if n < 36 else 300,
            quiz_passed=n < 36,
            completed_at=began + dt.timedelta(days=9 * n) if n < 36 else None,
        )
        for n, lesson in enumerate(made)
    )


def _evidence(person) -> None:
    """Photos and scans on the person's absences, like those a phone sends."""
    import io
    import random

    from django.core.files.base import ContentFile
    from PIL import Image, ImageDraw
    from reportlab.pdfgen.canvas import Canvas

    from lib.pdf import register_font
    from participation.models import AbsenceRequest

    rng = random.Random(20)
    for index, absence in enumerate(AbsenceRequest.objects.filter(person=person).order_by("pk")):
        out = io.BytesIO()
        if index < 4:
            # A photo of a typed note: paper, lines of text, the camera's grain.
            photo = Image.merge(
                "RGB", [Image.effect_noise((2000, 1500), 6).point(lambda v: v + 100)] * 3
            )
            draw = ImageDraw.Draw(photo)
            for line in range(30):
                width = rng.randint(900, 1700)
                draw.rectangle((150, 120 + line * 42, 150 + width, 140 + line * 42), fill=60)
            photo.save(out, "JPEG", quality=85)
            name = "evidence.jpg"
        else:
            canvas = Canvas(out, initialFontName=register_font())
            for page in range(2):
                canvas.setFont(register_font(), 14)
                canvas.drawString(72, 700, f"诊断证明 {rng.randint(1000, 9999)} 第{page + 1}页")
                canvas.showPage()
            canvas.save()
            name = "evidence.pdf"
        absence.evidence.save(name, ContentFile(out.getvalue()), save=False)
        absence.evidence_type = "image/jpeg" if name.endswith("jpg") else "application/pdf"
        absence.save(update_fields=["evidence", "evidence_type"])


def _results(person, counselor) -> None:
    from assessments.models import Instrument
    from assessments.services import INSTRUMENTS_DIR, do_load_instrument, read_instrument_file
    from assessments.taking import do_assign, do_review, do_save_answer, do_submit

    if not Instrument.objects.filter(slug="phq9").exists():
        do_load_instrument(read_instrument_file(INSTRUMENTS_DIR / "phq9.json"))
    for index in range(8):
        reason = "intake" if index == 0 else "exit" if index == 7 else "periodic"
        assignment = do_assign("phq9", person, counselor, reason=reason)
        for item in range(1, 10):
            do_save_answer(assignment, item, (item + index) % 4)
        do_review(do_submit(assignment), counselor, "情绪总体平稳。", "感谢您认真填写。")


def _plans(person, counselor, start) -> None:
    import datetime as dt

    from django.utils import timezone

    from plans.models import Plan, PlanReview, PlanRuleSet

    rules = PlanRuleSet.objects.current()
    # A signed review may already have drafted a plan (plans.drafting.on_review_signed).
    Plan.objects.filter(person=person).update(status="closed")
    base = Plan.objects.filter(person=person).count()
    for version in (1, 2, 3):
        approved = timezone.make_aware(
            dt.datetime.combine(start + dt.timedelta(days=20 + 120 * (version - 1)), dt.time(10))
        )
        plan = Plan.objects.create(
            person=person,
            version=base + version,
            status="approved" if version == 3 else "closed",
            phase="initial",
            support_intensity="medium",
            intensity_explanation="基准",
            rule_set=rules,
            created_by=counselor,
            approved_by=counselor,
            approved_at=approved,
        )
        for offset in (60, 110):
            due = approved.date() + dt.timedelta(days=offset)
            if offset == 110 and version != 3:
                continue
            PlanReview.objects.create(
                plan=plan,
                scheduled_for=due,
                reason="scheduled",
                held_at=approved + dt.timedelta(days=offset + 2),
                held_by=counselor,
            )


def _naive_snapshot(person):
    """Record by record, as a first version would read it."""
    from assessments.models import Assignment, Response, Result, Review
    from dossiers.rules import months_under_supervision
    from live.models import Attendance, Makeup
    from participation.models import AbsenceRequest, PersonMonth
    from plans.models import Plan, PlanReview

    months = [
        PersonMonth.objects.filter(person=person, period=m).first()
        for m in months_under_supervision(person.supervision_start, person.supervision_end)
    ]
    lectures = []
    for attendance in Attendance.objects.filter(person=person):
        lectures.append((attendance.lecture.title, attendance.lecture.required))
        Makeup.objects.filter(person=person, lecture=attendance.lecture).first()
    for assignment in Assignment.objects.filter(person=person):
        response = Response.objects.filter(assignment=assignment).first()
        result = Result.objects.filter(response=response).first()
        Review.objects.filter(result=result).first()
        assignment.instrument_version.instrument.localized_title()
    for plan in Plan.objects.filter(person=person):
        list(PlanReview.objects.filter(plan=plan))
    list(AbsenceRequest.objects.filter(person=person))
    return months, lectures


def run() -> list[dict]:
    import tempfile

    from django.conf import settings
    from django.db import transaction
    from django.test.utils import override_settings
    from django.utils import timezone, translation

    from dossiers.evidence import load_evidence
    from dossiers.models import Catalogue, Dossier
    from dossiers.pdf import Copy, FileInfo, render_copy
    from dossiers.services import do_compile_dossier, evaluate_catalogue
    from dossiers.snapshot import read_snapshot
    from lib.storage import private_storage
    from participation.models import AbsenceRequest
    from people.models import Person

    rows = []
    office = _office()
    officer = _user("bench-dossier-officer", "officer")
    counselor = _user("bench-dossier-counselor", "counselor")
    with tempfile.TemporaryDirectory() as root, translation.override("zh-hans"):
        storages = {
            **settings.STORAGES,
            "private": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": root, "base_url": None},
            },
        }
        evidence_field = AbsenceRequest._meta.get_field("evidence")
        field_storage = evidence_field.storage
        with override_settings(STORAGES=storages):
            # The evidence field keeps the storage it had at import: point it here too.
            evidence_field.storage = private_storage()
            busy = Person.objects.filter(case_number="BENCH-DOSSIER-0").first()
            if busy is None:
                busy = _person(0, office, officer, counselor, busy=True)
            catalogue = Catalogue.objects.current().parsed

            def ours():
                with transaction.atomic():
                    do_compile_dossier(busy, by=officer)
                    transaction.set_rollback(True)

            def naive():
                _naive_snapshot(busy)
                snapshot, evidence = load_evidence(read_snapshot(busy))  # the rules need it whole
                verdicts = evaluate_catalogue(catalogue, snapshot)
                info = FileInfo("bench", timezone.now(), 1, 1)
                for copy in Copy:
                    render_copy(snapshot, catalogue, verdicts, copy, info, evidence)

            rows.append(
                {
                    "name": "one busy person's file, both copies (12 months, 40 lessons, "
                    "12 lectures, 8 results, 3 plans, 6 evidence files)",
                    "target": "≤ 2 s",
                    "ours": best_of(ours),
                    "naive": best_of(naive),
                    "note": "naive: a query per month, lecture, questionnaire and plan",
                }
            )
            persons = list(
                Person.objects.filter(case_number__startswith="BENCH-DOSSIER-R").order_by("pk")
            )
            for number in range(len(persons), RELEASES):
                persons.append(
                    _person(f"R{number}", office, officer, counselor, busy=False)  # type: ignore[arg-type]
                )

            def month_of_releases():
                with transaction.atomic():
                    for person in persons:
                        do_compile_dossier(person)
                    assert Dossier.objects.filter(person__in=persons).count() == RELEASES  # noqa: S101
                    transaction.set_rollback(True)

            def month_naive():
                for person in persons:
                    _naive_snapshot(person)
                    snapshot = read_snapshot(person)
                    verdicts = evaluate_catalogue(catalogue, snapshot)
                    info = FileInfo("bench", timezone.now(), 1, 1)
                    for copy in Copy:
                        render_copy(snapshot, catalogue, verdicts, copy, info)

            rows.append(
                {
                    "name": f"a month's releases, {RELEASES} files compiled one after another",
                    "target": "≤ 60 s",
                    "ours": best_of(month_of_releases, repeat=1),
                    "naive": best_of(month_naive, repeat=1),
                    "note": "the worker's daily job; each file 12 months, 12 lectures, 6 absences",
                }
            )
        evidence_field.storage = field_storage
    return rows
