"""Demo courses for ``seed_demo``: two legal-education courses, auto-enrollment rules per
supervision category (which enroll the demo persons), some progress.

Idempotent: pages are found by slug, rows by their unique keys."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from wagtail.models import Site

from courses.demo import attach_demo_video
from courses.models import CourseIndexPage, CoursePage, LessonPage, Topic
from courses.services import ensure_course_permissions
from learning.enrollment import do_apply_rules
from learning.heartbeat import store
from learning.models import DueFrom, Enrollment, EnrollmentRule
from participation.models import StudyQuota
from people.models import Category, Person, User


def _quiz(questions: list[tuple[str, str, list[tuple[str, bool]] | bool, str]]) -> dict:
    items = []
    for number, (kind, text, answer, explanation) in enumerate(questions, 1):
        options = [] if isinstance(answer, bool) else answer
        items.append(
            {
                "type": "item",
                "id": f"q{number}",
                "value": {
                    "kind": kind,
                    "text": text,
                    "options": [
                        {"type": "item", "id": f"q{number}o{i}", "value": {"text": t, "correct": c}}
                        for i, (t, c) in enumerate(options)
                    ],
                    "answer_true": answer is True,
                    "explanation": explanation,
                },
            }
        )
    return {"type": "quiz", "id": "quiz", "value": {"pass_mark": 60, "questions": items}}


def _text(html: str, key: str) -> dict:
    return {"type": "text", "id": key, "value": html}


COURSES = [
    {
        "slug": "community-corrections-law",
        "title": "《社区矫正法》要点",
        "summary": "了解社区矫正对象的权利与义务、报告制度和外出审批。",
        "lessons": [
            (
                "rights-and-duties",
                "权利与义务",
                480,
                "<p>社区矫正对象依法享有人身权利、财产权利和其他合法权益，不受侵犯；"
                "在就业、就学和享受社会保障等方面不受歧视。</p><p>同时应当遵守法律、行政法规，"
                "履行判决、裁定、决定所确定的义务，服从社区矫正机构的监督管理。</p>",
                [
                    (
                        "true_false",
                        "社区矫正对象在就业、就学方面不受歧视。",
                        True,
                        "《社区矫正法》第四条。",
                    ),
                    (
                        "single",
                        "社区矫正对象应当服从谁的监督管理？",
                        [("社区矫正机构", True), ("所在单位的同事", False), ("邻居", False)],
                        "由社区矫正机构负责监督管理。",
                    ),
                ],
            ),
            (
                "reporting",
                "报告与外出审批",
                480,
                "<p>社区矫正对象应当按照规定报告自己的活动情况。离开所居住的市、县，"
                "应当经社区矫正机构批准；变更执行地的，应当提前一个月提出书面申请。</p>",
                [
                    (
                        "single",
                        "变更执行地应当提前多久提出书面申请？",
                        [("一周", False), ("一个月", True), ("三个月", False)],
                        "应当提前一个月提出书面申请。",
                    ),
                    ("true_false", "外出离开所居住的市、县无需批准。", False, "需要经批准。"),
                ],
            ),
        ],
    },
    {
        "slug": "civil-code-daily-life",
        "title": "《民法典》与日常生活",
        "summary": "合同、借贷、婚姻家庭与侵权：生活中最常用的民法知识。",
        "lessons": [
            (
                "contracts",
                "合同与借款",
                420,
                "<p>依法成立的合同，对当事人具有法律约束力。借款合同应当采用书面形式，"
                "禁止高利放贷，借款的利率不得违反国家有关规定。</p>",
                [
                    (
                        "true_false",
                        "依法成立的合同对当事人具有法律约束力。",
                        True,
                        "《民法典》第四百六十五条。",
                    ),
                    (
                        "multiple",
                        "以下哪些做法有助于避免借贷纠纷？",
                        [("签订书面借条", True), ("约定合法利率", True), ("只凭口头约定", False)],
                        "书面形式和合法利率可以减少纠纷。",
                    ),
                ],
            ),
            (
                "family",
                "婚姻家庭",
                420,
                "<p>家庭应当树立优良家风，弘扬家庭美德。夫妻应当互相忠实、互相尊重、互相关爱；"
                "父母有抚养、教育和保护未成年子女的义务，成年子女有赡养、扶助和保护父母的义务。</p>",
                [
                    (
                        "true_false",
                        "成年子女有赡养父母的义务。",
                        True,
                        "《民法典》第一千零六十七条。",
                    ),
                ],
            ),
            (
                "torts",
                "侵权责任",
                420,
                "<p>行为人因过错侵害他人民事权益造成损害的，应当承担侵权责任。"
                "自愿参加具有一定风险的文体活动受到损害的，一般不得请求其他参加者承担侵权责任，"
                "除非其他参加者对损害的发生有故意或者重大过失。</p>",
                [
                    (
                        "single",
                        "因过错侵害他人民事权益造成损害的，应当：",
                        [("承担侵权责任", True), ("不承担任何责任", False)],
                        "过错责任原则。",
                    ),
                ],
            ),
        ],
    },
]


# One short lesson a month (``cms.demo`` gives the demo persons a sitting in each month of
# their history): with the monthly lecture they meet the demo's quota.
MONTHLY_COURSE = {
    "slug": "monthly-law-lessons",
    "title": "每月法治微课",
    "summary": "每月一课，每课约三十分钟：与生活密切相关的法律常识。",
}
MONTHLY_SECONDS = 1800
MONTHLY_LESSONS = [
    (
        "constitution",
        "宪法与公民基本权利",
        "公民在法律面前一律平等。公民享有宪法和法律规定的权利，同时必须履行宪法和法律规定的义务。",
    ),
    (
        "surrender",
        "自首、坦白与立功",
        "犯罪以后自动投案，如实供述自己罪行的，是自首。对于自首的，可以从轻或者减轻处罚。",
    ),
    (
        "public-order",
        "治安管理处罚常识",
        "扰乱公共秩序、妨害公共安全等行为，尚不够刑事处罚的，依法给予治安管理处罚。",
    ),
    (
        "labour",
        "劳动合同与工资",
        "建立劳动关系，应当订立书面劳动合同。用人单位应当按时足额支付劳动报酬。",
    ),
    (
        "telecom-fraud",
        "反电信网络诈骗",
        "任何单位和个人不得非法买卖、出租、出借电话卡、银行账户和支付账户。",
    ),
    (
        "anti-drug",
        "远离毒品",
        "吸食、注射毒品是违法行为。戒毒人员可以自愿到戒毒医疗机构接受戒毒治疗。",
    ),
    (
        "traffic",
        "道路交通安全",
        "饮酒后不得驾驶机动车。醉酒驾驶机动车的，依法追究刑事责任。",
    ),
    (
        "family-education",
        "家庭教育与未成年人保护",
        "父母是未成年人的第一任老师，应当关注未成年人的生理、心理和情感需求。",
    ),
    (
        "personal-data",
        "个人信息保护",
        "任何组织、个人不得非法收集、使用、加工、传输他人个人信息，不得非法买卖他人个人信息。",
    ),
    (
        "consumers",
        "消费者权益保护",
        "消费者享有知悉其购买、使用的商品或者接受的服务的真实情况的权利。",
    ),
    (
        "mediation",
        "人民调解与化解矛盾",
        "人民调解委员会调解民间纠纷，不收取任何费用。经调解达成的协议具有法律约束力。",
    ),
    (
        "legal-aid",
        "如何申请法律援助",
        "经济困难的公民可以向法律援助机构申请法律援助，获得法律咨询、代理等服务。",
    ),
    (
        "public-service",
        "公益活动与社会适应",
        "社区矫正机构可以根据社区矫正对象的个人特长，组织其参加公益活动，修复社会关系，培养社会责任感。",
    ),
]
# Hours a month per category, which the monthly lecture (two hours) and lesson can meet.
DEMO_QUOTA_HOURS = {
    Category.STRICT: Decimal("2.5"),
    Category.NORMAL: Decimal("2"),
    Category.LENIENT: Decimal("1.5"),
}
OLD_DEFAULT_HOURS = Decimal("8")  # what earlier demos stored; replaced, an edited quota kept


# Every category studies both legal courses; the stricter the supervision, the sooner.
RULE_DUE = {
    Category.STRICT: (30, DueFrom.ENROLLMENT),
    Category.NORMAL: (60, DueFrom.ENROLLMENT),
    Category.LENIENT: (90, DueFrom.SUPERVISION_START),
}


def seed_enrollment_rules(courses: list[CoursePage], persons) -> list[EnrollmentRule]:
    """One auto-enrollment rule per (category, demo course), applied to the demo ``persons``.
    Idempotent: a rule is found by its (category, course) key, and a rule applies to a person
    once (``EnrollmentRuleApplication``)."""
    admin = User.objects.filter(username="admin").first()
    rules = []
    for category, (days, due_from) in RULE_DUE.items():
        for course in courses:
            rule, _created = EnrollmentRule.objects.get_or_create(
                category=category,
                course=course,
                defaults={"due_days": days, "due_from": due_from, "created_by": admin},
            )
            rules.append(rule)
    do_apply_rules(rules, persons=persons)
    return rules


def _child(parent, model, slug: str, **fields):
    page = model.objects.child_of(parent).filter(slug=slug).first()
    if page is None:
        page = model(slug=slug, **fields)
        parent.refresh_from_db()
        parent.add_child(instance=page)
    return page


def seed_monthly_course(index: CourseIndexPage) -> CoursePage:
    """The course of one short lesson a month (no quiz: reading time completes a lesson)."""
    course = _child(
        index,
        CoursePage,
        MONTHLY_COURSE["slug"],
        title=MONTHLY_COURSE["title"],
        summary=MONTHLY_COURSE["summary"],
        topic=Topic.LEGAL,
        credit_hours=6,
        intended_categories=list(Category.values),
    )
    for number, (slug, title, text) in enumerate(MONTHLY_LESSONS, 1):
        body = json.dumps([_text(f"<p>{text}</p>", f"{slug}-text")])
        _child(
            course,
            LessonPage,
            slug,
            title=f"第{number}课 {title}",
            expected_seconds=MONTHLY_SECONDS,
            body=body,
        )
    return course


def monthly_lessons() -> list[LessonPage]:
    """The monthly course's lessons in order (empty before ``seed_courses``)."""
    course = CoursePage.objects.filter(slug=MONTHLY_COURSE["slug"]).first()
    if course is None:
        return []
    return list(LessonPage.objects.child_of(course).order_by("path"))


@transaction.atomic
def seed_courses(now: dt.datetime | None = None) -> list[tuple[str, str]]:
    now = now or timezone.now()
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        return []
    home = site.root_page
    index = _child(home, CourseIndexPage, "courses", title="课程")
    ensure_course_permissions(index)
    courses = []
    for spec in COURSES:
        course = _child(
            index,
            CoursePage,
            spec["slug"],
            title=spec["title"],
            summary=spec["summary"],
            topic=Topic.LEGAL,
            credit_hours=1,
            intended_categories=list(Category.values),
        )
        lessons = []
        for slug, title, seconds, html, questions in spec["lessons"]:
            body = json.dumps([_text(html, f"{slug}-text"), _quiz(questions)])
            lessons.append(
                _child(course, LessonPage, slug, title=title, expected_seconds=seconds, body=body)
            )
        courses.append((course, lessons))
    # A short video of real length in the second lesson of the first course.
    attach_demo_video(courses[0][1][1])
    for category, hours in DEMO_QUOTA_HOURS.items():
        quota, created = StudyQuota.objects.get_or_create(
            category=category, defaults={"hours": hours}
        )
        if not created and quota.hours == OLD_DEFAULT_HOURS:
            quota.hours = hours
            quota.save(update_fields=["hours"])
    monthly = seed_monthly_course(index)
    demo_persons = Person.objects.filter(case_number__startswith="SF-2026-")
    seed_enrollment_rules([course for course, _lessons in courses], demo_persons)
    persons = list(demo_persons.order_by("case_number"))
    # Anyone the rules do not cover (e.g. supervision ended) still gets the demo courses.
    for person in persons:
        for course, _lessons in courses:
            Enrollment.objects.get_or_create(
                person=person,
                course=course,
                defaults={"due_date": (now + dt.timedelta(days=30)).date()},
            )
        Enrollment.objects.get_or_create(person=person, course=monthly)
    # A few learners part-way through the first lesson: two minutes of beats this morning.
    first_lesson = courses[0][1][0]
    start = now.replace(hour=1, minute=0, second=0, microsecond=0)
    for person in persons[1:4]:
        if person.study_sessions.exists():
            continue
        for step in range(0, 121, 15):
            store.do_record_heartbeat(
                person, first_lesson, "demo-tab-0001", start + dt.timedelta(seconds=step)
            )
    return []
