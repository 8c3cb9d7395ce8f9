"""Compile, review in rounds, return and resubmit, archive and read (against the database)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from audit.models import AccessEvent
from dossiers import services
from dossiers.models import Decision, Dossier, DossierProblem, DossierReview, DossierState
from dossiers.pdf import Copy
from dossiers.services import (
    DossierError,
    DossierNotFound,
    DossierTampered,
    do_compile_dossier,
    do_compile_released,
    do_pass,
    do_resolve_problem,
    do_resubmit,
    do_return,
    read_copy,
)
from dossiers.snapshot import read_snapshot
from ops.models import JobRun
from ops.schedule import JOBS_BY_NAME
from ops.tasks import compile_released_dossiers
from participation.models import AbsenceRequest, AbsenceStatus, PersonMonth
from people.roles import Role
from tests.dossiers.conftest import files_in
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewers(org):
    """One person for each of the four default rounds."""
    return {
        "self_check": org.officer,
        "office_head": make_user("east_head", Role.OFFICER, office=org.east),
        "centre": org.administrator,
        "bureau": make_user("bureau_chief", Role.ADMINISTRATOR, office=org.bureau),
    }


def stored_bytes(root, dossier: Dossier, copy: str) -> bytes:
    name = getattr(dossier, services.FILE_FIELDS[copy]).name
    return (root / name).read_bytes()


# --- Compiling ------------------------------------------------------------------------------


def test_compiling_records_both_copies_with_their_sha256_and_starts_round_one(
    released, private_dir, officer
):
    dossier = do_compile_dossier(released, by=officer)
    assert dossier.state == DossierState.IN_ROUND and dossier.round == 1
    assert dossier.compilation == 1 and dossier.generated_by == officer
    for copy in Copy:
        data = stored_bytes(private_dir, dossier, copy)
        assert data.startswith(b"%PDF")
        assert hashlib.sha256(data).hexdigest() == getattr(dossier, services.HASH_FIELDS[copy])
    assert len(files_in(private_dir)) == 2
    verdicts = {v["section"]: v for v in dossier.verdicts}
    assert verdicts["monthly_study"]["complete"] is True
    assert verdicts["plan"]["complete"] is False


def test_the_check_reads_the_records_as_they_are(released, private_dir):
    PersonMonth.objects.filter(person=released).order_by("period").first().delete()
    AbsenceRequest.objects.create(
        person=released,
        period=released.supervision_start.replace(day=1),
        requirement_key="lecture:1",
        requirement="法治讲座",
        reason="生病",
        filed_at=timezone.now(),
        status=AbsenceStatus.APPROVED,
    )
    dossier = do_compile_dossier(released)
    verdicts = {v["section"]: v for v in dossier.verdicts}
    assert verdicts["monthly_study"]["complete"] is False
    assert len(verdicts["monthly_study"]["missing"]) == 1
    assert verdicts["absences"]["complete"] is False
    assert dossier.generated_by is None and dossier.generated_by_name


def test_a_crash_halfway_through_compiling_leaves_no_file(released, private_dir, monkeypatch):
    real = services.render_copy

    def crash_on_second(snapshot, catalogue, verdicts, copy, info, evidence=None):
        if copy == Copy.COUNSELOR:
            raise RuntimeError("disk full")
        return real(snapshot, catalogue, verdicts, copy, info, evidence)

    monkeypatch.setattr(services, "render_copy", crash_on_second)
    with pytest.raises(RuntimeError):
        do_compile_dossier(released)
    dossier = Dossier.objects.get(person=released)
    assert dossier.state == DossierState.COMPILING
    assert not dossier.officer_file and not dossier.officer_sha256
    assert files_in(private_dir) == []
    monkeypatch.setattr(services, "render_copy", real)
    # The scheduler picks the cut-off file up again.
    assert do_compile_released()["compiled"] == 1
    assert Dossier.objects.get(person=released).state == DossierState.IN_ROUND


def test_the_scheduled_job_compiles_the_day_after_the_end_date_only(org, released):
    counts = do_compile_released()
    assert counts == {"compiled": 1, "failed": 0}
    assert Dossier.objects.filter(person=released).exists()
    assert not Dossier.objects.filter(person=org.other_person).exists()  # still supervised
    assert do_compile_released() == {"compiled": 0, "failed": 0}


def test_a_file_in_review_is_not_compiled_on_demand(released):
    do_compile_dossier(released)
    with pytest.raises(DossierError):
        do_compile_dossier(released)
    assert Dossier.objects.get(person=released).compilation == 1


# --- Rounds ---------------------------------------------------------------------------------


def pass_all(dossier, reviewers) -> Dossier:
    for key in ("self_check", "office_head", "centre", "bureau"):
        dossier = do_pass(dossier, reviewers[key])
    return dossier


def test_four_passes_archive_the_file_with_its_hashes_in_the_access_log(
    released, reviewers, settings
):
    settings.DOSSIER_RETENTION_YEARS = 10
    dossier = pass_all(do_compile_dossier(released), reviewers)
    assert dossier.state == DossierState.ARCHIVED
    assert dossier.retain_until.year == timezone.localdate().year + 10
    reviews = list(DossierReview.objects.filter(dossier=dossier))
    assert [(r.round, r.round_key, r.decision) for r in reviews] == [
        (1, "self_check", Decision.PASS),
        (2, "office_head", Decision.PASS),
        (3, "centre", Decision.PASS),
        (4, "bureau", Decision.PASS),
    ]
    assert [r.reviewer for r in reviews] == list(reviewers.values())
    event = AccessEvent.objects.filter(object_type="dossiers.dossier").last()
    assert dossier.officer_sha256 in event.detail and dossier.counselor_sha256 in event.detail
    with pytest.raises(DossierError, match="archived|归档"):
        do_compile_dossier(released)


def test_a_reviewer_outside_the_scope_is_refused_and_nothing_changes(released, org, reviewers):
    dossier = do_compile_dossier(released)
    for outsider in (org.other_officer, org.counselor, org.learner, org.outsider):
        with pytest.raises(DossierError):
            do_pass(dossier, outsider)
    # Round 2 is the office's: an officer of another office may not decide it.
    dossier = do_pass(dossier, reviewers["self_check"])
    with pytest.raises(DossierError):
        do_pass(dossier, org.other_officer)
    with pytest.raises(DossierError):
        do_return(dossier, org.administrator, [("plan", "缺少方案")])
    assert DossierReview.objects.filter(dossier=dossier).count() == 1
    assert Dossier.objects.get(pk=dossier.pk).round == 2


def test_the_same_person_cannot_pass_two_rounds(released, org):
    dossier = do_pass(do_compile_dossier(released), org.officer)
    # The case officer works in the east office, so round 2's scope holds them too.
    with pytest.raises(DossierError):
        do_pass(dossier, org.officer)
    assert Dossier.objects.get(pk=dossier.pk).round == 2


def test_return_resolve_resubmit_recompiles_and_restarts_the_round(
    released, reviewers, private_dir, django_capture_on_commit_callbacks
):
    dossier = do_pass(do_compile_dossier(released), reviewers["self_check"])
    first_hash = dossier.officer_sha256
    dossier = do_return(
        dossier,
        reviewers["office_head"],
        [("plan", "方案未在30日内审批"), ("absences", "缺少证明")],
        note="请补正",
    )
    assert dossier.state == DossierState.RETURNED and dossier.round == 2
    review = DossierReview.objects.get(dossier=dossier, decision=Decision.RETURN)
    assert sorted(review.problems.values_list("section", flat=True)) == ["absences", "plan"]

    with pytest.raises(DossierError):
        do_pass(dossier, reviewers["office_head"])  # returned, not in review
    with pytest.raises(DossierError):
        do_resubmit(dossier, reviewers["self_check"])  # problems open
    problems = list(DossierProblem.objects.filter(dossier=dossier))
    with pytest.raises(DossierError):
        do_resolve_problem(problems[0], reviewers["office_head"], "已补")  # not the case officer
    with pytest.raises(DossierError):
        do_resolve_problem(problems[0], reviewers["self_check"], "  ")  # no note
    for problem in problems:
        do_resolve_problem(problem, reviewers["self_check"], "无法补正：当事人已外出")

    with django_capture_on_commit_callbacks(execute=True):
        dossier = do_resubmit(dossier, reviewers["self_check"])
    assert dossier.state == DossierState.IN_ROUND and dossier.round == 2
    assert dossier.compilation == 2 and dossier.officer_sha256 != first_hash
    assert len(files_in(private_dir)) == 2  # the superseded copies are gone
    dossier = do_pass(dossier, reviewers["office_head"])
    assert dossier.round == 3


def test_no_pass_while_problems_are_open(released, reviewers):
    dossier = do_pass(do_compile_dossier(released), reviewers["self_check"])
    dossier = do_return(dossier, reviewers["office_head"], [("plan", "缺少方案")])
    # A problem left open on a file back in review (e.g. written by another path).
    Dossier.objects.filter(pk=dossier.pk).update(state=DossierState.IN_ROUND)
    with pytest.raises(DossierError, match="open|未解决"):
        do_pass(dossier, reviewers["office_head"])
    assert not DossierReview.objects.filter(dossier=dossier, round=2, decision="pass").exists()


def test_a_return_needs_problems_in_known_sections(released, reviewers):
    dossier = do_compile_dossier(released)
    for problems in ([], [("plan", "")], [("nonsense", "缺少")]):
        with pytest.raises(DossierError):
            do_return(dossier, reviewers["self_check"], problems)
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.IN_ROUND


def test_a_crash_while_resubmitting_keeps_the_previous_copy(
    released, reviewers, private_dir, monkeypatch
):
    dossier = do_compile_dossier(released)
    dossier = do_return(dossier, reviewers["self_check"], [("plan", "缺少方案")])
    for problem in dossier.problems.all():
        do_resolve_problem(problem, reviewers["self_check"], "已补")
    monkeypatch.setattr(services, "render_copy", lambda *a: (_ for _ in ()).throw(OSError()))
    with pytest.raises(OSError):
        do_resubmit(dossier, reviewers["self_check"])
    dossier.refresh_from_db()
    data = read_copy(dossier, Copy.OFFICER, user=reviewers["self_check"])
    assert hashlib.sha256(data).hexdigest() == dossier.officer_sha256


# --- Reading --------------------------------------------------------------------------------


def test_reads_are_scoped_logged_and_checked_against_the_hash(
    released, reviewers, org, private_dir
):
    dossier = pass_all(do_compile_dossier(released), reviewers)
    before = AccessEvent.objects.count()
    assert read_copy(dossier, Copy.OFFICER, user=org.officer).startswith(b"%PDF")
    assert read_copy(dossier, Copy.OFFICER, user=org.administrator).startswith(b"%PDF")
    assert read_copy(dossier, Copy.COUNSELOR, user=org.counselor).startswith(b"%PDF")
    assert AccessEvent.objects.count() == before + 3
    refused = [
        (org.counselor, Copy.OFFICER),
        (org.officer, Copy.COUNSELOR),
        (org.other_officer, Copy.OFFICER),
        (org.other_counselor, Copy.COUNSELOR),
        (org.learner, Copy.OFFICER),
        (org.lecturer, Copy.OFFICER),
        (org.outsider, Copy.OFFICER),
    ]
    for user, copy in refused:
        with pytest.raises(DossierNotFound):
            read_copy(dossier, copy, user=user)
    assert AccessEvent.objects.filter(action="denied").count() >= len(refused)

    path = private_dir / dossier.officer_file.name
    path.write_bytes(path.read_bytes().replace(b"%%EOF", b"%%EOF\n% changed"))
    with pytest.raises(DossierTampered):
        read_copy(dossier, Copy.OFFICER, user=org.officer)
    last = AccessEvent.objects.order_by("pk").last()
    assert last.success is False and dossier.officer_sha256 in last.detail
    path.unlink()
    with pytest.raises(DossierTampered):
        read_copy(dossier, Copy.OFFICER, user=org.officer)


def test_the_snapshot_is_read_once_for_both_copies(released, monkeypatch):
    calls = []
    real = services.read_snapshot
    monkeypatch.setattr(services, "read_snapshot", lambda p: calls.append(p) or real(p))
    do_compile_dossier(released)
    assert len(calls) == 1


def test_retention_date_comes_from_the_setting(released, reviewers, settings):
    settings.DOSSIER_RETENTION_YEARS = 3
    dossier = pass_all(do_compile_dossier(released), reviewers)
    today = timezone.localdate()
    assert dossier.retain_until - today >= dt.timedelta(days=3 * 365)


def test_the_daily_job_is_in_the_schedule_and_records_its_counts(released):
    job = JOBS_BY_NAME["compile_released_dossiers"]
    assert job.command == "compile_released_dossiers"
    compile_released_dossiers.call()
    run = JobRun.objects.get(job="compile_released_dossiers")
    assert run.counts == {"compiled": 1, "failed": 0}
    assert Dossier.objects.filter(person=released).exists()


def test_the_snapshot_reads_in_a_fixed_number_of_queries(released, django_assert_max_num_queries):
    for period in PersonMonth.objects.filter(person=released).values_list("period", flat=True):
        AbsenceRequest.objects.create(
            person=released,
            period=period,
            requirement_key="lecture:1",
            reason="生病",
            filed_at=timezone.now(),
            status=AbsenceStatus.APPROVED,
        )
    with django_assert_max_num_queries(11):  # one query per kind of record, lessons too
        snapshot = read_snapshot(released)
    assert len(snapshot.months) == len(snapshot.absences) >= 12


def test_the_counselors_copy_names_scales_and_bands_in_words(released, private_dir, org):
    """The scores read as the counselor's result page shows them (总分, 轻度), never the
    instrument's codes (total, mild)."""
    import io

    from django.utils.translation import override
    from pypdf import PdfReader

    from tests.assessments.helpers import stored_result

    stored_result(released, [1] * 9, timezone.now())
    with override("zh-hans"):
        dossier = do_compile_dossier(released)
    data = read_copy(dossier, Copy.COUNSELOR, user=org.counselor)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "9" in text and "总分" in text
    assert "total" not in text and "mild" not in text


def test_the_lessons_studied_are_in_the_file(released, private_dir, org):
    """The monthly study section lists each lesson studied: when it was completed, the
    minutes credited and whether its quiz was passed (the issue's busy person has 40)."""
    import io

    from django.utils.translation import override
    from pypdf import PdfReader

    from learning.models import LessonProgress
    from tests.learning.builders import lessons_of, make_course

    done, started = lessons_of(make_course(lessons=2))
    LessonProgress.objects.create(
        person=released,
        lesson=done,
        credited_seconds=1800,
        quiz_passed=True,
        completed_at=timezone.now(),
    )
    LessonProgress.objects.create(person=released, lesson=started, credited_seconds=600)
    snapshot = read_snapshot(released)
    assert [(s.title, s.minutes, s.quiz_passed) for s in snapshot.lessons] == [
        (done.title, 30, True),
        (started.title, 10, False),
    ]
    with override("zh-hans"):
        dossier = do_compile_dossier(released)
    data = read_copy(dossier, Copy.OFFICER, user=org.officer)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert done.title in text and started.title in text and "未完成" in text


def test_the_counselors_copy_gives_each_answer_in_words(
    released, private_dir, org, django_assert_max_num_queries
):
    """Answers read as the counselor's result page shows them: the question's number and the
    option chosen (9 好几天), not the stored option positions ("1 1 1 …" read as scores);
    the officer's copy has none of them."""
    import io

    from django.utils.translation import override
    from pypdf import PdfReader

    from tests.assessments.helpers import stored_result

    for days in (3, 2, 1):
        stored_result(released, [1] * 9, timezone.now() - dt.timedelta(days=days))
    with django_assert_max_num_queries(11):  # answers in words cost no query per result
        read_snapshot(released)
    with override("zh-hans"):
        dossier = do_compile_dossier(released)

    def text_of(copy, user):
        data = read_copy(dossier, copy, user=user)
        pages = PdfReader(io.BytesIO(data)).pages
        return "".join(page.extract_text() for page in pages).replace("\n", "")

    counselor = text_of(Copy.COUNSELOR, org.counselor)
    assert "9 好几天" in counselor and "1 1 1" not in counselor
    assert "好几天" not in text_of(Copy.OFFICER, org.officer)
