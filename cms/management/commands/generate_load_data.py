"""A province-sized data set for benchmarks (never part of the demo).

``python manage.py generate_load_data --persons 50000 --months 12 [--seed 7]`` creates, in
bulk and in chunks: a province (bureau) with cities and ~100 justice offices, persons (with
sign-in accounts that cannot sign in), the study quotas if missing, a few courses of a few live
lessons each, enrollments due across the months and each enrolled person's progress in their
lessons (some done, one under way, the rest not begun), one required lecture per city and
month with its fixed audience, and the participation ledger of every person-month with a
realistic mix (most met, some excused, some short of hours, absent from the lecture or late
with a course), and three staff accounts for ``bench/bench_staff_pages.py``:
``load-province-admin`` (administrator of the province), ``load-province-officer`` (officer of
the first office, case officer of its persons) and ``load-province-counselor`` (a caseload of
150 current persons, that office's first). Then it computes the rollups (``--no-rollups`` to
skip).

It refuses to run twice on one database (the province's office code is the marker).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from wagtail.models import Site

from courses.models import CourseIndexPage, CoursePage, LessonPage
from learning.models import Enrollment, LessonProgress
from live.jitsi import participant_id
from live.models import Lecture, LectureAudience
from participation.models import (
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
    StudyQuota,
)
from participation.requirements import QUOTA, month_end
from participation.rollups import last_months, refresh_month
from people.models import Caseload, Category, Office, OfficeKind, Person, User
from people.roles import Role

MARKER = "load-province"
CASELOAD = 150
STAFF_NAMES = {
    Role.ADMINISTRATOR: "压测管理员",
    Role.OFFICER: "压测矫正干警",
    Role.COUNSELOR: "压测心理咨询师",
}
CITIES = 10
OFFICES_PER_CITY = 10
COURSES = 4
LESSONS_PER_COURSE = 4
LESSON_SECONDS = 600
QUOTA_HOURS = {Category.STRICT: 10, Category.NORMAL: 8, Category.LENIENT: 6}
CATEGORY_WEIGHTS = ((Category.STRICT, 0.2), (Category.NORMAL, 0.6), (Category.LENIENT, 0.2))
# A person-month's outcome: met, excused (an approved absence for one requirement) or short.
OUTCOMES = (("met", 0.84), ("excused", 0.06), ("short", 0.10))
BATCH = 2000
UNUSABLE = "!"  # an unusable password hash: load-data accounts never sign in


AUDIENCE_COLUMNS = ["lecture_id", "person_id", "participant_id"]
LEDGER_COLUMNS = [
    "person_id",
    "period",
    "source",
    "requirement_key",
    "requirement",
    "minutes",
    "status",
    "updated_at",
]


def insert_rows(model, columns: list[str], rows: list[tuple], chunk: int = 50_000) -> None:
    """Plain INSERTs of many rows, without model instances: COPY on PostgreSQL,
    ``executemany`` elsewhere; one transaction per chunk."""
    table = model._meta.db_table
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in part:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                # names come from the model's own metadata, never from input
                sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(sql, part)


def _pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


class Command(BaseCommand):
    help = (
        "Create a province-sized data set for benchmarks: ~100 justice offices, PERSONS "
        "persons, courses, lectures and MONTHS months of participation ledger. Not for the "
        "demo; refuses to run twice on the same database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=50_000)
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--offices", type=int, default=CITIES * OFFICES_PER_CITY)
        parser.add_argument("--no-rollups", action="store_true", help="skip refresh_rollups")

    def handle(self, *args, **options):
        persons, months = options["persons"], options["months"]
        if persons < 1 or not 1 <= months <= 60:
            raise CommandError("--persons must be at least 1 and --months between 1 and 60.")
        if Office.objects.filter(code=MARKER).exists():
            raise CommandError(
                "Load data already exists in this database (office code "
                f"'{MARKER}'). Use a fresh database to generate it again."
            )
        self.rng = random.Random(options["seed"])  # noqa: S311 - test data, not secrets
        self.today = timezone.localdate()
        self.now = connection.ops.adapt_datetimefield_value(timezone.now())
        self.periods = last_months(self.today, months)
        began = time.perf_counter()
        steps = [
            ("offices", lambda: self.make_offices(options["offices"])),
            ("persons", lambda: self.make_persons(persons)),
            ("courses and enrollments", self.make_courses),
            ("lessons and progress", self.make_lesson_progress),
            ("lectures and audiences", self.make_lectures),
            ("participation ledger", self.make_ledger),
            ("staff accounts", self.make_staff),
        ]
        # Planner statistics first: the rollups' set-based queries are planned from them.
        steps.append(("statistics (VACUUM ANALYZE)", self.analyze))
        if not options["no_rollups"]:
            steps.append(("rollups", self.make_rollups))
            # and again for the rollup tables: planned from empty-table statistics, the staff
            # pages' month queries took a nested loop over every person-month
            steps.append(("statistics (VACUUM ANALYZE)", self.analyze))
        for label, step in steps:
            t0 = time.perf_counter()
            count = step()
            self.stdout.write(f"{label}: {count} row(s) in {time.perf_counter() - t0:.1f} s")
        self.stdout.write(f"done in {time.perf_counter() - began:.1f} s")

    # --- Organisation ---------------------------------------------------------------------

    def make_offices(self, count: int) -> int:
        with transaction.atomic():
            province = Office.add_root(name="省司法厅（压测）", code=MARKER, kind=OfficeKind.BUREAU)
            cities = max(1, min(CITIES, count // OFFICES_PER_CITY or 1))
            per_city = max(1, -(-count // cities))
            self.offices: list[Office] = []
            self.city_of: dict[int, Office] = {}
            made = 0
            for c in range(cities):
                province.refresh_from_db()
                city = province.add_child(
                    name=f"第{c + 1}市司法局", code=f"{MARKER}-c{c + 1}", kind=OfficeKind.BUREAU
                )
                for o in range(per_city):
                    if made == count:
                        break
                    city.refresh_from_db()
                    office = city.add_child(
                        name=f"第{c + 1}市第{o + 1}司法所", code=f"{MARKER}-c{c + 1}-o{o + 1}"
                    )
                    self.offices.append(office)
                    self.city_of[office.pk] = city
                    made += 1
        self.province = province
        return made + cities + 1

    def make_persons(self, count: int) -> int:
        rng = self.rng
        first = self.periods[0]
        learner = Group.objects.get(name=Role.LEARNER)
        self.persons: list[tuple[int, int, int, str, dt.date, dt.date]] = []
        made = 0
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            with transaction.atomic():
                users = User.objects.bulk_create(
                    [
                        User(
                            username=f"load-{start + i:07d}",
                            password=UNUSABLE,
                            name=f"压测对象{start + i:07d}",
                        )
                        for i in range(size)
                    ],
                    batch_size=500,
                )
                User.groups.through.objects.bulk_create(
                    [User.groups.through(user_id=u.pk, group_id=learner.pk) for u in users],
                    batch_size=1000,
                )
                rows = []
                for i, user in enumerate(users):
                    begin = first - dt.timedelta(days=rng.randint(-300, 400))
                    end = begin + dt.timedelta(days=rng.randint(180, 900))
                    rows.append(
                        Person(
                            user_id=user.pk,
                            case_number=f"LOAD-{start + i:07d}",
                            full_name=user.name,
                            office=rng.choice(self.offices),
                            category=_pick(rng, CATEGORY_WEIGHTS),
                            supervision_start=begin,
                            supervision_end=end,
                        )
                    )
                created = Person.objects.bulk_create(rows, batch_size=500)
            for person, user in zip(created, users, strict=True):
                self.persons.append(
                    (
                        person.pk,
                        user.pk,
                        person.office_id,
                        person.category,
                        person.supervision_start,
                        person.supervision_end,
                    )
                )
            made += size
        for category, hours in QUOTA_HOURS.items():
            StudyQuota.objects.get_or_create(category=category, defaults={"hours": hours})
        return made

    # --- Courses, lectures ----------------------------------------------------------------

    def make_courses(self) -> int:
        index = CourseIndexPage.objects.first()
        if index is None:
            index = Site.objects.get(is_default_site=True).root_page.add_child(
                instance=CourseIndexPage(title="课程", slug="courses")
            )
        self.courses = []
        for n in range(COURSES):
            index.refresh_from_db()
            course = CoursePage(
                title=f"压测课程 {n + 1}", slug=f"load-course-{n + 1}", summary="load data"
            )
            index.add_child(instance=course)
            self.courses.append(course)
        # One enrollment per person, due on a day of one of their months.
        self.enrollments: dict[int, tuple[int, dt.date]] = {}
        rows = []
        for pk, _user, _office, _cat, begin, end in self.persons:
            months = [p for p in self.periods if begin <= month_end(p) and end >= p]
            if not months:
                continue
            period = self.rng.choice(months)
            due = period.replace(day=self.rng.randint(5, 28))
            course = self.rng.choice(self.courses)
            self.enrollments[pk] = (course.pk, due)
            rows.append(Enrollment(person_id=pk, course=course, due_date=due))
        Enrollment.objects.bulk_create(rows, batch_size=1000)
        return len(rows)

    def make_lesson_progress(self) -> int:
        """Each course's live lessons, and each enrolled person's progress in them: the
        lessons before one done, that one under way (part of its time credited), the rest not
        begun — so the staff's progress pages look each enrolment's lessons up, as in use."""
        lessons: dict[int, list[int]] = {}
        for course in self.courses:
            lessons[course.pk] = []
            for n in range(LESSONS_PER_COURSE):
                course.refresh_from_db()
                lesson = LessonPage(
                    title=f"第 {n + 1} 课",
                    slug=f"lesson-{n + 1}",
                    expected_seconds=LESSON_SECONDS,
                )
                course.add_child(instance=lesson)
                lessons[course.pk].append(lesson.pk)
        rows = []
        for pk, (course_id, _due) in self.enrollments.items():
            reached = self.rng.randint(0, LESSONS_PER_COURSE)
            for index, lesson_id in enumerate(lessons[course_id][:reached]):
                done = index < reached - 1 or self.rng.random() < 0.5
                credited = LESSON_SECONDS if done else self.rng.randint(30, LESSON_SECONDS - 30)
                rows.append((pk, lesson_id, credited, done, self.now if done else None, self.now))
        columns = [
            "person_id",
            "lesson_id",
            "credited_seconds",
            "quiz_passed",
            "completed_at",
            "updated_at",
        ]
        insert_rows(LessonProgress, columns, rows)
        return len(rows)

    def make_lectures(self) -> int:
        lecturer, _ = User.objects.get_or_create(
            username=f"{MARKER}-lecturer", defaults={"name": "压测讲师", "password": UNUSABLE}
        )
        tz = timezone.get_current_timezone()
        now = timezone.now()
        pids = {user: participant_id(user) for _pk, user, *_rest in self.persons}
        by_city: dict[int, list] = defaultdict(list)
        for row in self.persons:
            by_city[self.city_of[row[2]].pk].append(row)
        # (person pk, period) → lecture pk for the ledger
        self.lecture_of: dict[tuple[int, dt.date], tuple[int, bool]] = {}
        total = 0
        for period in self.periods:
            for city_pk, members in by_city.items():
                start = dt.datetime.combine(period.replace(day=15), dt.time(10), tzinfo=tz)
                lecture = Lecture.objects.create(
                    title=f"{period:%Y年%m月} 法治教育讲座",
                    lecturer=lecturer,
                    start=start,
                    end=start + dt.timedelta(hours=1, minutes=30),
                    audience_resolved_at=start,
                    required=True,
                )
                lecture.audience_offices.add(city_pk)
                held = start < now
                audience = [
                    (lecture.pk, pk, pids[user])
                    for pk, user, _office, _cat, begin, end in members
                    if begin <= start.date() <= end
                ]
                insert_rows(LectureAudience, AUDIENCE_COLUMNS, audience)
                for _lecture, pk, _pid in audience:
                    self.lecture_of[(pk, period)] = (lecture.pk, held)
                total += len(audience)
        return total

    # --- The ledger -----------------------------------------------------------------------

    def make_ledger(self) -> int:
        rng = self.rng
        quota = {c: h * 60 for c, h in QUOTA_HOURS.items()}
        total = 0
        for period in self.periods:
            current = period == self.periods[-1] and self.today <= month_end(period)
            elapsed = (self.today.day / month_end(period).day) if current else 1.0
            rows: list[tuple] = []
            for pk, _user, _office, category, begin, end in self.persons:
                if begin > month_end(period) or end < period:
                    continue
                outcome = _pick(rng, OUTCOMES)
                # what this person will fall short on, if anything
                miss = rng.choice(("quota", "lecture", "course")) if outcome != "met" else ""
                full = quota[category]
                minutes = full + rng.randint(0, 240)
                if miss == "quota":
                    minutes = rng.randint(0, max(0, full - 30))
                minutes = int(minutes * elapsed)
                if minutes:
                    rows.append(
                        self._row(pk, period, ParticipationSource.LESSON, "lesson:load", minutes)
                    )
                lecture = self.lecture_of.get((pk, period))
                if lecture and lecture[1] and miss != "lecture":
                    source = (
                        ParticipationSource.LECTURE
                        if rng.random() < 0.9
                        else ParticipationSource.MAKEUP
                    )
                    rows.append(self._row(pk, period, source, f"lecture:{lecture[0]}", 80))
                enrolled = self.enrollments.get(pk)
                if enrolled and enrolled[1].replace(day=1) == period and miss != "course":
                    if enrolled[1] <= self.today or rng.random() < 0.3:
                        rows.append(
                            self._row(
                                pk, period, ParticipationSource.COURSE, f"course:{enrolled[0]}"
                            )
                        )
                if outcome == "excused":
                    key = {
                        "quota": f"{QUOTA}:{period:%Y-%m}",
                        "lecture": f"lecture:{lecture[0]}" if lecture else "",
                        "course": f"course:{enrolled[0]}" if enrolled else "",
                    }[miss]
                    if key:
                        rows.append(
                            self._row(
                                pk,
                                period,
                                ParticipationSource.EXCUSED,
                                key,
                                status=ParticipationStatus.EXCUSED,
                            )
                        )
            insert_rows(ParticipationRecord, LEDGER_COLUMNS, rows)
            total += len(rows)
        return total

    def _row(self, pk, period, source, key, minutes=0, status=ParticipationStatus.COMPLETED):
        # Values as the database stores them (SQLite keeps dates and UTC datetimes as text).
        day = connection.ops.adapt_datefield_value(period)
        return (pk, day, source, key, "", minutes, status, self.now)

    # --- Staff ----------------------------------------------------------------------------

    def make_staff(self) -> int:
        """An administrator of the province, an officer of the first office (case officer of
        its persons) and a counselor with a caseload of ``CASELOAD`` of its current persons."""
        office = self.offices[0]
        staff = {}
        with transaction.atomic():
            for role, where in (
                (Role.ADMINISTRATOR, self.province),
                (Role.OFFICER, office),
                (Role.COUNSELOR, None),
            ):
                user = User.objects.create(
                    username=f"{MARKER}-{role}",
                    password=UNUSABLE,
                    name=STAFF_NAMES[role],
                    office=where,
                )
                user.groups.add(Group.objects.get(name=role))
                staff[role] = user
            Person.objects.filter(office=office).update(case_officer=staff[Role.OFFICER])
            # The office's current persons first; other offices' fill up a small data set.
            current = sorted(
                (office_pk != office.pk, pk)
                for pk, _user, office_pk, _cat, begin, end in self.persons
                if begin <= self.today <= end
            )
            current = [pk for _other, pk in current]
            Caseload.objects.bulk_create(
                [
                    Caseload(person_id=pk, counselor=staff[Role.COUNSELOR])
                    for pk in current[:CASELOAD]
                ]
            )
        return len(staff) + min(len(current), CASELOAD)

    def analyze(self) -> int:
        """Planner statistics, as autovacuum would have them after a bulk load. On
        PostgreSQL also VACUUM: the visibility map it sets is what lets the planner read an
        index alone (the scope's lectures by person, ``LectureAudience``'s person index);
        before it, every heap page counts as unvisited and a sequential scan wins. VACUUM
        cannot run in a transaction: called inside one (a test's), ANALYZE alone."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                cursor.execute("VACUUM ANALYZE")
            else:
                cursor.execute("ANALYZE")
        return 0

    def make_rollups(self) -> int:
        return sum(refresh_month(period, today=self.today).persons for period in self.periods)
