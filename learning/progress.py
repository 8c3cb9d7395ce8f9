"""Staff progress reports: per course and per office, at a fixed number of SQL queries.

Everything is computed in the database (annotations, correlated subqueries on the indexed
progress rows, GROUP BY for counts); only the list of each course's live lessons is read
first (``lesson_plan``, one query). So a page or an export costs the same number of queries
for ten persons or ten thousand, and for one course or a hundred. The rules are the
learner's own (``learning.services``): a course is complete when every live lesson is;
progress counts each lesson's credited time up to its expected length (``CourseProgress``);
a month's hours are that month's ``ParticipationRecord`` minutes against the category's
``StudyQuota`` (8 hours when none is set, ``MonthSummary``).

Scope is always ``Person.objects.active().visible_to(user)``: the functions take the user
and apply it themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Least
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import CoursePage, LessonPage
from learning.models import Enrollment, LessonProgress
from learning.services import CourseProgress, MonthSummary
from lib.months import month_start
from participation.models import ParticipationRecord, StudyQuota
from participation.requirements import DEFAULT_QUOTA_HOURS
from people.models import Office, Person

# "Behind": the due date is at most NEAR_DAYS away and less than BEHIND_BELOW_PERCENT of the
# course's expected study time is credited. Past the due date an unfinished course is overdue.
NEAR_DAYS = 7
BEHIND_BELOW_PERCENT = 50


class Status(models.TextChoices):
    OVERDUE = "overdue", _("Overdue")
    BEHIND = "behind", _("Behind")
    ON_TRACK = "on_track", _("On track")
    COMPLETED = "completed", _("Completed")


# Most urgent first: the order of the per-course table.
STATUS_RANK = {Status.OVERDUE: 0, Status.BEHIND: 1, Status.ON_TRACK: 2, Status.COMPLETED: 3}


class QuotaStatus(models.TextChoices):
    BELOW = "below", _("Below quota")
    MET = "met", _("Quota met")


# --- SQL building blocks --------------------------------------------------------------------


def _scalar(queryset: QuerySet, function: str, expression, output_field=None) -> Coalesce:
    """``(SELECT function(expression) FROM queryset)``, 0 when there are no rows.

    A plain ``Func`` (not an ``Aggregate``) keeps Django from adding a GROUP BY, so the
    subquery yields exactly one row."""
    output_field = output_field or IntegerField()
    value = Func(expression, function=function, output_field=output_field)
    subquery = Subquery(queryset.order_by().annotate(value=value).values("value"))
    return Coalesce(subquery, Value(0), output_field=output_field)


# course id -> ((lesson id, expected seconds), ...): the live lessons progress is measured on.
LessonPlan = dict[int, tuple[tuple[int, int], ...]]


def lesson_plan(courses: Iterable[CoursePage]) -> LessonPlan:
    """The live lessons of ``courses``, in one query whatever their number."""
    by_path = {course.path: course.pk for course in courses}
    plan: dict[int, list[tuple[int, int]]] = {pk: [] for pk in by_path.values()}
    if not by_path:
        return {}
    lessons = LessonPage.objects.live()
    if len(by_path) == 1:
        lessons = lessons.filter(path__startswith=next(iter(by_path)))
    depths = {len(path) // LessonPage.steplen + 1 for path in by_path}
    rows = lessons.filter(depth__in=depths).order_by("path")
    for pk, path, expected in rows.values_list("pk", "path", "expected_seconds"):
        course = by_path.get(path[: -LessonPage.steplen])
        if course is not None:
            plan[course].append((pk, expected))
    return {course: tuple(lessons) for course, lessons in plan.items()}


def _per_course(plan: LessonPlan, value: Callable[[tuple], int]):
    """``CASE course_id WHEN … THEN value(lessons) … ELSE 0``: a per-course constant."""
    whens = [When(course_id=c, then=Value(value(ls))) for c, ls in plan.items() if value(ls)]
    if not whens:
        return Value(0, output_field=IntegerField())
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _by_course(plan: LessonPlan, lookup: Callable[[list[int]], models.Expression], field):
    """``CASE course_id WHEN c THEN lookup(c's live lesson ids) … END``: each enrollment runs
    the lookup of its own course only, on LessonProgress's (person, lesson) index with the
    course's few lesson ids; a course without live lessons runs none (``None``)."""
    whens = [
        When(course_id=course, then=lookup([lesson for lesson, _seconds in lessons]))
        for course, lessons in plan.items()
        if lessons
    ]
    if not whens:
        return Value(None, output_field=field)
    return Case(*whens, default=Value(None), output_field=field)


def with_progress(
    enrollments: QuerySet[Enrollment], plan: LessonPlan, today: dt.date
) -> QuerySet[Enrollment]:
    """Annotate each enrollment with its course progress and ``status`` (see ``Status``).

    ``plan`` (``lesson_plan``) must cover the enrollments' courses; a course missing from it
    counts as having no lessons. Adds ``lessons_total``, ``expected_seconds``,
    ``lessons_done``, ``credited_seconds`` (time spent, as credited), ``progress_seconds``
    (credited time capped per lesson at its expected length, as ``CourseProgress``),
    ``last_completed_at``, ``status`` and ``status_rank``. The per-person parts are
    correlated subqueries on LessonProgress's (person, lesson) index, with the enrollment's
    course's lesson ids inlined (``_by_course``: no join to the page tree per enrollment; at a
    bureau's 47,505 enrollments the path-matching join cost 0.6 s on PostgreSQL), so this
    works inside another subquery (``filter(person=OuterRef("pk"))``) too."""
    annotated = enrollments.annotate(
        lessons_total=_per_course(plan, len),
        expected_seconds=_per_course(plan, lambda ls: sum(e for _l, e in ls)),
    )
    progress = LessonProgress.objects.filter(person=OuterRef("person"))
    capped = Least(F("credited_seconds"), F("lesson__expected_seconds"))
    whole = IntegerField()

    def count_done(lessons):
        done = progress.filter(lesson_id__in=lessons, completed_at__isnull=False)
        return _scalar(done, "COUNT", F("pk"))

    def total(expression):
        return lambda lessons: _scalar(progress.filter(lesson_id__in=lessons), "SUM", expression)

    def last_done(lessons):
        done = progress.filter(lesson_id__in=lessons, completed_at__isnull=False)
        return Subquery(done.order_by("-completed_at").values("completed_at")[:1])

    annotated = annotated.annotate(
        lessons_done=Coalesce(_by_course(plan, count_done, whole), Value(0)),
        credited_seconds=Coalesce(_by_course(plan, total(F("credited_seconds")), whole), Value(0)),
        progress_seconds=Coalesce(_by_course(plan, total(capped), whole), Value(0)),
        last_completed_at=_by_course(plan, last_done, models.DateTimeField()),
    )
    soon = today + dt.timedelta(days=NEAR_DAYS)
    # Under BEHIND_BELOW_PERCENT of the expected time, i.e. CourseProgress.percent below it.
    # The per-course constant comes first: a course without expected time needs no lookup.
    little_done = Q(expected_seconds__lte=0) | Q(
        LessThan(F("progress_seconds") * 100, F("expected_seconds") * BEHIND_BELOW_PERCENT)
    )
    # Only a course with live lessons can be completed: asked first, so an enrollment in a
    # course without any (a draft, a course whose lessons are not published yet) costs no
    # progress lookup (SQL's AND stops at the first false; each lookup is a correlated
    # subquery, run once per enrollment otherwise).
    with_lessons = [course for course, lessons in plan.items() if lessons]
    rules = [
        (
            Status.COMPLETED,
            Q(course_id__in=with_lessons) & Q(lessons_done__gte=F("lessons_total")),
        ),
        (Status.OVERDUE, Q(due_date__lt=today)),
        (Status.BEHIND, Q(due_date__lte=soon) & little_done),
    ]
    return annotated.annotate(
        status=Case(
            *(When(condition, then=Value(status.value)) for status, condition in rules),
            default=Value(Status.ON_TRACK.value),
            output_field=CharField(),
        ),
        status_rank=Case(
            *(When(condition, then=Value(STATUS_RANK[status])) for status, condition in rules),
            default=Value(STATUS_RANK[Status.ON_TRACK]),
            output_field=IntegerField(),
        ),
    )


def scoped_persons(user) -> QuerySet[Person]:
    return Person.objects.active().visible_to(user)


# --- Per course -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseFilters:
    office: Office | None = None
    status: str = ""
    category: str = ""


@dataclass(frozen=True)
class CourseRow:
    """One enrolled person's progress in one course."""

    person_id: int
    case_number: str
    name: str
    office: str
    category: str
    progress: CourseProgress
    credited_seconds: int
    due_date: dt.date | None
    status: Status
    completed_on: dt.date | None

    @property
    def lessons_done(self) -> int:
        return self.progress.completed

    @property
    def lessons_total(self) -> int:
        return self.progress.lessons

    @property
    def credited(self) -> str:
        return format_duration(self.credited_seconds)


def course_enrollments(
    user, course: CoursePage, filters: CourseFilters | None = None, today: dt.date | None = None
) -> QuerySet[Enrollment]:
    """Enrollments in ``course`` of the active persons ``user`` may see, annotated by
    ``with_progress``, most urgent first, then by name. One query when evaluated."""
    filters = filters or CourseFilters()
    today = today or timezone.localdate()
    enrollments = Enrollment.objects.filter(course=course, person__in=scoped_persons(user))
    if filters.office is not None:
        enrollments = enrollments.filter(person__office__path__startswith=filters.office.path)
    if filters.category:
        enrollments = enrollments.filter(person__category=filters.category)
    enrollments = with_progress(enrollments, lesson_plan([course]), today)
    if filters.status:
        enrollments = enrollments.filter(status=filters.status)
    return enrollments.select_related("person", "person__office").order_by(
        "status_rank", "person__full_name", "pk"
    )


def course_row(enrollment: Enrollment, course: CoursePage) -> CourseRow:
    """A ``CourseRow`` from an enrollment annotated by ``with_progress``."""
    person = enrollment.person
    completed_at = enrollment.last_completed_at if enrollment.status == Status.COMPLETED else None
    return CourseRow(
        person_id=person.pk,
        case_number=person.case_number,
        name=person.full_name,
        office=person.office.name,
        category=person.get_category_display(),
        progress=CourseProgress(
            course=course,
            lessons=enrollment.lessons_total,
            completed=enrollment.lessons_done,
            credited_seconds=enrollment.progress_seconds,
            expected_seconds=enrollment.expected_seconds,
            due_date=enrollment.due_date,
        ),
        credited_seconds=enrollment.credited_seconds,
        due_date=enrollment.due_date,
        status=Status(enrollment.status),
        completed_on=timezone.localdate(completed_at) if completed_at else None,
    )


def course_rows(enrollments: Iterable[Enrollment], course: CoursePage) -> Iterator[CourseRow]:
    for enrollment in enrollments:
        yield course_row(enrollment, course)


@dataclass
class CourseSummary:
    course: CoursePage
    enrolled: int = 0
    completed: int = 0
    behind: int = 0
    overdue: int = 0


def courses_overview(user, today: dt.date | None = None) -> list[CourseSummary]:
    """Every course with counts over the enrollments of the persons ``user`` may see, by
    status. Three queries whatever the number of courses, lessons and persons."""
    today = today or timezone.localdate()
    courses = list(CoursePage.objects.order_by("path").only("pk", "path", "depth", "title", "live"))
    summaries = {course.pk: CourseSummary(course) for course in courses}
    enrollments = with_progress(
        Enrollment.objects.filter(person__in=scoped_persons(user)), lesson_plan(courses), today
    )
    # Grouped by an expression of the course, not the bare column: PostgreSQL otherwise reads
    # the enrollments in course order off their index and checks the scope once per
    # enrollment (a nested-loop semi-join: 190 ms for a bureau's 47,505); this way it hashes
    # the scope once (103 ms). SQLite plans both alike.
    counts = (
        enrollments.order_by()
        .values("status", grouped_course=F("course_id") + Value(0))
        .annotate(n=Count("pk"))
    )
    for row in counts:
        summary = summaries.get(row["grouped_course"])
        if summary is None:
            continue
        summary.enrolled += row["n"]
        if row["status"] in (Status.COMPLETED, Status.BEHIND, Status.OVERDUE):
            setattr(summary, row["status"], row["n"])
    return list(summaries.values())


# --- Per office -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeFilters:
    period: dt.date | None = None  # first day of the month; None: this month
    category: str = ""
    quota: str = ""


@dataclass(frozen=True)
class OfficeRow:
    """One person's month against the quota, and their courses."""

    person_id: int
    case_number: str
    name: str
    office: str
    category: str
    month: MonthSummary
    courses_enrolled: int
    courses_completed: int
    courses_behind: int
    courses_overdue: int

    @property
    def quota_met(self) -> bool:
        return self.month.minutes >= self.month.quota_minutes


def office_persons(
    user,
    office: Office,
    filters: OfficeFilters | None = None,
    today: dt.date | None = None,
) -> QuerySet[Person]:
    """Active persons ``user`` may see in ``office``'s subtree, annotated with the month's
    ``month_minutes``, ``quota_hours`` and ``quota_minutes``, furthest below the quota
    first. One query when evaluated; ``office_rows`` adds the course counts."""
    filters = filters or OfficeFilters()
    today = today or timezone.localdate()
    period = filters.period or month_start(today)
    persons = scoped_persons(user).filter(office__path__startswith=office.path)
    if filters.category:
        persons = persons.filter(category=filters.category)
    quota = StudyQuota.objects.filter(category=OuterRef("category")).values("hours")[:1]
    hours = DecimalField(max_digits=5, decimal_places=1)
    persons = persons.annotate(
        month_minutes=_scalar(
            ParticipationRecord.objects.filter(person=OuterRef("pk"), period=period),
            "SUM",
            F("minutes"),
        ),
        quota_hours=Coalesce(
            Subquery(quota, output_field=hours), Value(DEFAULT_QUOTA_HOURS), output_field=hours
        ),
    ).annotate(quota_minutes=Cast(F("quota_hours") * 60, IntegerField()))
    if filters.quota == QuotaStatus.BELOW:
        persons = persons.filter(month_minutes__lt=F("quota_minutes"))
    elif filters.quota == QuotaStatus.MET:
        persons = persons.filter(month_minutes__gte=F("quota_minutes"))
    share = Case(
        When(quota_minutes__lte=0, then=Value(1.0)),
        default=Cast(F("month_minutes"), models.FloatField()) / F("quota_minutes"),
        output_field=models.FloatField(),
    )
    return persons.select_related("office").order_by(share.asc(), "full_name", "pk")


def course_counts(persons, today: dt.date | None = None) -> dict[int, dict[str, int]]:
    """Published courses per person and status: ``{person id: {status: n}}``.

    ``persons`` is a list of ids or a Person queryset (used as a subquery). Three queries
    whatever the number of persons, courses and lessons."""
    today = today or timezone.localdate()
    plan = lesson_plan(CoursePage.objects.live().only("pk", "path"))
    enrollments = with_progress(
        Enrollment.objects.published().filter(person__in=persons), plan, today
    )
    counts: dict[int, dict[str, int]] = {}
    rows = enrollments.order_by().values("person_id", "status").annotate(n=Count("pk"))
    for row in rows:
        counts.setdefault(row["person_id"], {})[row["status"]] = row["n"]
    return counts


def office_rows(
    persons: Iterable[Person], period: dt.date, among=None, today: dt.date | None = None
) -> list[OfficeRow]:
    """``OfficeRow``s of persons annotated by ``office_persons``, with their course counts.

    ``among`` (a Person queryset covering ``persons``) lets a long list fetch the counts
    through a subquery instead of a list of ids."""
    persons = list(persons)
    counts = course_counts(among if among is not None else [p.pk for p in persons], today)
    rows = []
    for person in persons:
        mine = counts.get(person.pk, {})
        rows.append(
            OfficeRow(
                person_id=person.pk,
                case_number=person.case_number,
                name=person.full_name,
                office=person.office.name,
                category=person.get_category_display(),
                month=MonthSummary(
                    period=period,
                    minutes=person.month_minutes,
                    quota_hours=Decimal(person.quota_hours).quantize(Decimal("0.1")),
                ),
                courses_enrolled=sum(mine.values()),
                courses_completed=mine.get(Status.COMPLETED, 0),
                courses_behind=mine.get(Status.BEHIND, 0),
                courses_overdue=mine.get(Status.OVERDUE, 0),
            )
        )
    return rows


# --- Tables shared by the pages and the exports ---------------------------------------------


def format_duration(seconds: int) -> str:
    """Whole minutes as ``h:mm`` (``5400`` → ``1:30``); hours are not capped at 24."""
    minutes = max(0, int(seconds)) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable  # row -> the exported cell (str, int, Decimal, date or timedelta)


def _date(value: dt.date | None):
    return value if value is not None else ""


COURSE_COLUMNS = [
    Column(_("Case number"), lambda r: r.case_number),
    Column(_("Name"), lambda r: r.name),
    Column(_("Office"), lambda r: r.office),
    Column(_("Category"), lambda r: r.category),
    Column(_("Lessons completed"), lambda r: r.lessons_done),
    Column(_("Lessons"), lambda r: r.lessons_total),
    Column(_("Study time (h:mm)"), lambda r: dt.timedelta(seconds=r.credited_seconds // 60 * 60)),
    Column(_("Due date"), lambda r: _date(r.due_date)),
    Column(_("Status"), lambda r: str(r.status.label)),
    Column(_("Completed on"), lambda r: _date(r.completed_on)),
]

OFFICE_COLUMNS = [
    Column(_("Case number"), lambda r: r.case_number),
    Column(_("Name"), lambda r: r.name),
    Column(_("Office"), lambda r: r.office),
    Column(_("Category"), lambda r: r.category),
    Column(_("Study hours in the month"), lambda r: r.month.hours),
    Column(_("Monthly quota (hours)"), lambda r: r.month.quota_hours),
    Column(_("Percent of quota"), lambda r: r.month.percent),
    Column(_("Courses enrolled"), lambda r: r.courses_enrolled),
    Column(_("Courses completed"), lambda r: r.courses_completed),
    Column(_("Courses behind"), lambda r: r.courses_behind),
    Column(_("Courses overdue"), lambda r: r.courses_overdue),
]
