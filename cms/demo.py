"""Twelve months of demo history, and this month, for ``seed_demo``: a living bureau.

Each demo person follows a story (``STORIES``): always on time, slipping in recent months,
excused for a hospital stay with evidence, making up missed lectures, often late, or newly
arrived. Their months are built through the services that keep the rules, in the order
things happened:

* a two-hour required lecture in each of the past twelve months, its join and leave events
  stored through the webhook's checks and its attendance computed (``live.demo``): the
  ledger's lecture rows and the makeups follow from the attendance;
* one sitting a month on the monthly course's lesson (``learning.heartbeat.store.
  do_record_sitting``): the same credit and ledger rows as its heartbeats;
* leave requests filed with a certificate and decided (``participation.absences``) before the
  lecture they excuse; makeups watched on the recording (``live.makeups``);
* the daily follow-up on a few past days and today, then the rollups of the twelve months.

Deterministic (a seeded random per person) and idempotent: a lecture with computed
attendance, a person's sitting in a month, a request or a watched makeup already there is
left alone; the follow-up and the rollups are idempotent themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone

from courses.demo import demo_video_document
from courses.models import CoursePage, LessonPage, Topic
from learning.demo import monthly_lessons
from learning.heartbeat.store import do_record_sitting
from learning.models import StudySession
from lib.pdf import pdf_document
from live.demo import Presence, seed_past_lecture
from live.makeups import BeatRejected, do_record_watch_heartbeat
from live.models import Lecture, Makeup
from participation import reports
from participation.absences import AbsenceError, do_decide_absence, do_file_absence, open_options
from participation.followup import OfficerAction, do_record_action, run_follow_up
from participation.models import (
    AbsenceRequest,
    FollowUp,
    FollowUpPolicy,
    FollowUpStage,
    ReportFile,
)
from participation.report_tasks import do_request_report
from participation.requirements import QUOTA, month_end
from participation.rollups import last_months, refresh_month
from people.models import Person, User

STEADY, SLIPPING, EXCUSED, MAKEUP, LATE, NEW = (
    "steady",
    "slipping",
    "excused",
    "makeup",
    "late",
    "new",
)
# learner number → story; everyone else is steady.
STORIES = {
    **dict.fromkeys((4, 14, 24), SLIPPING),
    **dict.fromkeys((5, 15, 25), EXCUSED),
    **dict.fromkeys((6, 16, 26), MAKEUP),
    **dict.fromkeys((7, 17, 27), LATE),
    **dict.fromkeys((28, 29, 30), NEW),
}
MONTHS = 13  # this month and the twelve before it
HOSPITAL_MONTH = 3  # months ago: the excused persons' month in hospital
RECORDING_MAKEUP_MONTH = 9  # months ago: the makeup persons watch this lecture's recording
# The required lecture of each past month (the first is twelve months ago); three topics in
# turn, so a missed lecture can also be made up at the next one on its topic.
LECTURES = [
    ("宪法宣传：公民的权利与义务", Topic.LEGAL, "检察官"),
    ("情绪管理：与压力和平相处", Topic.MENTAL_HEALTH, "心理咨询师"),
    ("家风家教与社会公德", Topic.MORAL, "社会工作者"),
    ("缓刑、假释与社区矫正", Topic.LEGAL, "法官"),
    ("走出焦虑：睡眠与放松训练", Topic.MENTAL_HEALTH, "心理咨询师"),
    ("诚信做人：从一次承诺开始", Topic.MORAL, "社会工作者"),
    ("远离“套路贷”：借贷中的法律风险", Topic.LEGAL, "律师"),
    ("重建人际关系：沟通与求助", Topic.MENTAL_HEALTH, "心理咨询师"),
    ("感恩与担当：回归社会的第一步", Topic.MORAL, "社会工作者"),
    ("治安管理处罚法与日常行为", Topic.LEGAL, "民警"),
    ("应对挫折：在困难中保持希望", Topic.MENTAL_HEALTH, "心理咨询师"),
    ("邻里和睦：社区生活中的公德", Topic.MORAL, "社会工作者"),
]
LECTURE_MINUTES = 120
LECTURE_DAY, LECTURE_HOUR = 12, 9
# The last lectures have no recording yet: their makeups are a later lecture on the topic.
RECORDED = range(len(LECTURES) - 2)
SITTING_MINUTES = 40
WATCH_BEATS = 195  # 30 s apart: 97 minutes, over 80 % of the two-hour lecture

# Connections to a lecture, in seconds after its start (the lecture lasts 7,200 s).
END = LECTURE_MINUTES * 60
ON_TIME: Presence = [(-300, END + 60)]
RECONNECTED: Presence = [(-200, 3000), (3100, END + 60)]
JOINED_LATE: Presence = [(660, END + 60)]  # 11 minutes late, still 90 % of the time
LEFT_EARLY: Presence = [(-300, END - 1800)]
ABSENT: Presence = []


@dataclass(frozen=True)
class Month:
    """What a person does in one month of the history."""

    presence: Presence | None  # None: no lecture for them that month
    sitting_minutes: int  # 0: no study
    on_leave: bool = False  # in hospital: the lecture and the quota are excused


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def story_of(number: int) -> str:
    return STORIES.get(number, STEADY)


def month_plan(number: int, ago: int, rng: random.Random) -> Month:
    """Person ``number``'s month ``ago`` months before this one (0: this month)."""
    story = story_of(number)
    on_time = RECONNECTED if rng.random() < 0.15 else ON_TIME
    if story == SLIPPING:
        presence = {4: JOINED_LATE, 3: LEFT_EARLY, 2: ABSENT, 1: ABSENT}.get(ago, on_time)
        minutes = SITTING_MINUTES if ago >= 4 else (15 if ago == 3 else 0)
        return Month(presence, minutes)
    if story == EXCUSED and ago == HOSPITAL_MONTH:
        return Month(ABSENT, 0, on_leave=True)
    if story == MAKEUP and ago in (RECORDING_MAKEUP_MONTH, 5):
        # the lecture five months ago is made up at the next one on its topic
        return Month(ABSENT, SITTING_MINUTES)
    if story == LATE:
        presence = {10: JOINED_LATE, 7: JOINED_LATE, 4: JOINED_LATE, 1: JOINED_LATE}
        presence |= {8: LEFT_EARLY, 2: LEFT_EARLY}
        # late months they study longer (a lesson credits at most 45 minutes)
        return Month(presence.get(ago, on_time), 46 if ago in presence else SITTING_MINUTES)
    return Month(on_time, SITTING_MINUTES)


def _evidence(person: Person) -> SimpleUploadedFile:
    content = pdf_document(
        "住院证明",
        [
            ("text", f"兹证明 {person.full_name} 于本月因病住院治疗，需卧床休息，不宜外出。"),
            ("text", "示范区人民医院（示范数据）"),
        ],
    )
    return SimpleUploadedFile("hospital.pdf", content, content_type="application/pdf")


def _handler(person: Person, officer: User, admin: User) -> User:
    return officer if person.case_officer_id == officer.pk else admin


def _file_leave(
    person: Person, key: str, period: dt.date, on: dt.date, officer: User, admin: User
) -> None:
    """A leave request for ``key`` filed by the person with a certificate on ``on``, approved
    by their officer (or the administrator) the next day."""
    if AbsenceRequest.objects.filter(person=person, period=period, requirement_key=key).exists():
        return
    absence = do_file_absence(
        person,
        period=period,
        requirement_key=key,
        reason="因病住院治疗，附医院证明。",
        evidence=_evidence(person),
        by=person.user,
        today=on,
    )
    do_decide_absence(
        absence,
        approve=True,
        note="已核实住院证明，准假。",
        by=_handler(person, officer, admin),
        now=_local(on + dt.timedelta(days=1), 10),
    )


def _watch_recording(makeup: Makeup) -> None:
    """The person watches the recording three evenings after the lecture, to the end."""
    if makeup.completed_at is not None or not makeup.lecture.recording_url:
        return
    start = _local(timezone.localdate(makeup.lecture.end) + dt.timedelta(days=3), 19)
    tab = f"demo-watch-{makeup.pk}"
    for beat in range(WATCH_BEATS):
        try:
            makeup = do_record_watch_heartbeat(makeup, tab, start + dt.timedelta(seconds=30 * beat))
        except BeatRejected:
            return
        if makeup.completed_at is not None:
            return


def seed_history(today: dt.date | None = None) -> list[tuple[str, str]]:
    """Twelve months of history for the demo persons (see the module docstring). Needs
    ``seed_people``, ``seed_courses`` and ``seed_lectures`` first; does nothing without them."""
    lecturer = User.objects.filter(username="lecturer1").first()
    officer = User.objects.filter(username="officer1").first()
    admin = User.objects.filter(username="admin").first()
    lessons = monthly_lessons()
    if lecturer is None or officer is None or admin is None or not lessons:
        return []
    today = today or timezone.localdate()
    now = timezone.now()
    periods = last_months(today, MONTHS)
    # The thirty persons under supervision (SF-2026-0001 is learner1) and those released
    # (SF-2025-0101 …, ``people.demo.RELEASED``): always on time until their release.
    persons = list(
        Person.objects.filter(
            Q(case_number__startswith="SF-2026-") | Q(case_number__startswith="SF-2025-")
        )
        .select_related("user")
        .order_by("case_number")
    )
    numbers = {p.pk: int(p.case_number.rpartition("-")[2]) for p in persons}
    rngs = {p.pk: random.Random(f"seed-demo-{numbers[p.pk]}") for p in persons}  # noqa: S311
    plans = {
        p.pk: [month_plan(numbers[p.pk], MONTHS - 1 - i, rngs[p.pk]) for i in range(MONTHS)]
        for p in persons
    }
    recording = demo_video_document().url

    for index, (title, topic, lecturer_title) in enumerate(LECTURES):
        start = _local(periods[index].replace(day=LECTURE_DAY), LECTURE_HOUR)
        present = [p for p in persons if p.supervision_start <= start.date() <= p.supervision_end]
        spec = {
            "title": title,
            "topic": topic,
            "lecturer_title": lecturer_title,
            "description": f"{lecturer_title}主讲的每月集中教育讲座（示范数据）。",
            "minutes": LECTURE_MINUTES,
        }
        presence = {p: plans[p.pk][index].presence or [] for p in present}
        on_leave = [p for p in present if plans[p.pk][index].on_leave]

        def grant_leave(lecture: Lecture, on_leave=on_leave, period=periods[index], day=start):
            # asked for, and granted, before the lecture: its attendance will read "excused"
            for person in on_leave:
                key = f"lecture:{lecture.pk}"
                _file_leave(person, key, period, day.date() - dt.timedelta(days=3), officer, admin)

        lecture = seed_past_lecture(
            spec,
            lecturer,
            start,
            presence,
            recording_url=recording if index in RECORDED else "",
            prepare=grant_leave,
        )
        for person in on_leave:
            quota = f"{QUOTA}:{periods[index]:%Y-%m}"
            _file_leave(person, quota, periods[index], start.date(), officer, admin)
        if index == MONTHS - 1 - RECORDING_MAKEUP_MONTH:
            for makeup in Makeup.objects.filter(lecture=lecture).select_related("lecture"):
                if story_of(numbers[makeup.person_id]) == MAKEUP:
                    _watch_recording(makeup)

    for person in persons:
        number = numbers[person.pk]
        for index, period in enumerate(periods):
            month = plans[person.pk][index]
            if (
                not month.sitting_minutes
                or person.supervision_start > month_end(period)
                or person.supervision_end < period
            ):
                continue
            # a newcomer studies in their first days, a released person before release
            day = max(period.replace(day=3 + number % 20), person.supervision_start)
            day = min(day, person.supervision_end)
            started = _local(day, 20)
            ended = started + dt.timedelta(minutes=month.sitting_minutes)
            if day < person.supervision_start or ended >= now:
                continue
            tab = f"demo-{period:%Y%m}"
            lesson = lessons[index % len(lessons)]
            if StudySession.objects.filter(person=person, tab=tab).exists():
                continue
            do_record_sitting(person, lesson, tab, started, ended)

    _pending_leave(persons, numbers, today)
    # The daily follow-up as it ran at the end of last month, and today.
    for day in (month_end(periods[-2]) - dt.timedelta(days=1), today):
        run_follow_up(day)
    _officer_calls(officer)
    for period in periods:
        refresh_month(period, today=today)
    _last_month_report(officer, periods[-2])
    return []


def _last_month_report(officer: User, period: dt.date) -> None:
    """officer1 has asked for last month's report of the office (built by the task worker)."""
    if officer.office_id is None or ReportFile.objects.filter(requested_by=officer).exists():
        return
    params = {"office": officer.office_id, "period": f"{period:%Y-%m}", "format": reports.PDF}
    do_request_report(officer, reports.MONTHLY, params)


def _officer_calls(officer: User) -> None:
    """officer1 has called one of the persons the follow-up gave them a task for."""
    task = (
        FollowUp.objects.filter(officer=officer, officer_acted_at__isnull=True)
        .exclude(stage=FollowUpStage.RESOLVED)
        .order_by("period", "person__case_number", "requirement_key")
        .first()
    )
    if task is None or FollowUp.objects.filter(officer_acted_at__isnull=False).exists():
        return
    do_record_action(
        task, officer, action=OfficerAction.CALLED, note="已电话联系，本人承诺下月按时参加。"
    )


def _pending_leave(persons: list[Person], numbers: dict[int, int], today: dt.date) -> None:
    """learner5 asks for leave this month, with a certificate; officer1 has yet to decide."""
    person = next((p for p in persons if numbers[p.pk] == 5), None)
    if (
        person is None
        or AbsenceRequest.objects.filter(person=person, period=today.replace(day=1)).exists()
    ):
        return
    options = open_options(person, today)
    if not options:
        return
    option = next((o for o in options if o.requirement.kind == "lecture"), options[0])
    try:
        do_file_absence(
            person,
            period=option.period,
            requirement_key=option.requirement.key,
            reason="母亲手术，需在医院陪护，附医院证明。",
            evidence=_evidence(person),
            by=person.user,
            today=today,
        )
    except AbsenceError:
        return


# A lesson lecturer1 wrote and submitted, waiting for editor1's review (the editor's home).
REVIEW_LESSON_SLUG = "demo-awaiting-review"
REVIEW_LESSON_TITLE = "外出请假的正确做法（待审核）"
REVIEW_LESSON_TEXT = (
    "<p>需要离开所居住的市、县时，应当提前向司法所提出书面申请，说明事由、目的地和期限，"
    "经批准后方可外出；返回后及时报告。</p>"
)


def seed_staff_work(today: dt.date | None = None) -> list[tuple[str, str]]:
    """What the editor's and the administrator's screens need besides the history: a lesson
    in the course review workflow (submitted by lecturer1, for the editors) and the follow-up
    policy row the administrators edit. Idempotent; needs ``seed_people`` and
    ``seed_courses``."""
    admin = User.objects.filter(username="admin").first()
    if admin is not None and not FollowUpPolicy.objects.exists():
        FollowUpPolicy.objects.create(updated_by=admin)  # the defaults the follow-up uses
    lecturer = User.objects.filter(username="lecturer1").first()
    course = CoursePage.objects.order_by("path").first()
    if lecturer is None or course is None:
        return []
    if LessonPage.objects.filter(slug=REVIEW_LESSON_SLUG).exists():
        return []
    lesson = LessonPage(
        slug=REVIEW_LESSON_SLUG,
        title=REVIEW_LESSON_TITLE,
        expected_seconds=300,
        body=json.dumps([{"type": "text", "id": "review-text", "value": REVIEW_LESSON_TEXT}]),
        owner=lecturer,
        live=False,
    )
    course.add_child(instance=lesson)
    lesson.save_revision(user=lecturer)
    workflow = lesson.get_workflow()
    if workflow is not None:
        workflow.start(lesson, lecturer)
    return []
