"""Chinese throughout: every page of the permission matrix, as every role allowed to see it,
rendered in zh-hans, shows no English words (issue #19 item 5, issue #17).

How it works
------------
* The routes, their sample parameters and who may see them come from the permission matrix
  (``tests/security/test_permission_matrix.py``: ``iter_routes``, ``rule_for`` and the
  policies' ``OBJECT_PROBES``). A GET cell the policy answers ``ok`` (or ``any`` for the
  Wagtail internals) is rendered; a 200 HTML answer is scanned.
* Forms and messages: in the matrix's order, each POST a role may make (``ok``, ``bad``
  or ``redirect``, with the matrix's data, mostly an empty form) is sent too and the page it
  ends on is scanned: the form's errors or the message after the redirect. Wagtail viewset
  forms the matrix does not POST to are in ``EXTRA_FORMS``.
* ``scan_org`` gives the pages that list history, moderation and images rows to show: an
  image, a course in review and a site-history entry for an object of every kind staff edit
  in the admin (so every model's name appears in the reports).
* ``visible_text`` keeps what a person reads: text nodes, and the ``title``, ``placeholder``,
  ``aria-label`` and ``alt`` attributes and the ``value`` of buttons. It drops ``<script>``,
  ``<style>``, ``<template>``, ``<svg>`` and elements hidden with ``hidden``,
  ``aria-hidden="true"`` or an inline ``display: none``.
* Every Latin word left is an offence unless the allow-list below explains it. Failures list
  route × role × words, so a new untranslated string names its page.
* So is a half-width colon after a Chinese character ("目标: 5"): a Chinese label takes "："
  (a colon outside a translated string goes through ``{% translate ": " context "label
  separator" %}``; Django's form label suffix is "：" in the project's catalogue). It is
  reported as the word ``:``. Not read there: ``<title>`` (the site name follows a hyphen)
  and Wagtail's message area, whose validation summary joins each field's label and error
  with a fixed ": " (``wagtail.admin.messages.validation_error``, no string to translate;
  the field itself shows the error under its label).
* The reverse check (English pages show no Chinese) would have to tell the product's Chinese
  data (office names, the seeded instruments and courses, ``张三``) from interface text; it is
  not made here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import BytesIO
from urllib.parse import urlsplit

import lxml.html
import pytest
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.core.files.images import ImageFile
from django.test import Client
from django.urls import resolve, reverse
from PIL import Image as PILImage
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.images.models import Image
from wagtail.log_actions import log
from wagtail.models import Page, Task, Workflow

from assessments.models import Instrument
from courses.models import CoursePage
from courses.services import ensure_course_permissions
from people.models import User
from tests.factories import Org, login_staff
from tests.learning.builders import course_index, make_course
from tests.security.matrix import (
    ANY,
    BAD,
    OK,
    REDIRECT,
    ROLES,
    SCOPE,
    SIGNED_IN,
    Expect,
    object_pk,
)
from tests.security.test_permission_matrix import (
    OBJECT_PROBES,
    iter_routes,
    live_webhook_secrets,  # noqa: F401 - the same autouse fixture as the matrix
    rule_for,
)

LANGUAGE = "zh-hans"

# --- The allow-list -------------------------------------------------------------------------

# Names a Chinese page rightly shows in Latin letters: the instruments' own abbreviations
# (PHQ-9, GAD-7, …, as clinicians cite them), file formats and standards, the video service's
# product name, and "ID"/"URL"/"QR" as Chinese staff write them.
ALLOWED_WORDS = frozenset(
    {
        *("PHQ", "GAD", "SDS", "SAS", "AUDIT", "K10", "SCL", "DAST", "SES", "RCI"),
        *("II", "III", "IV"),  # AUDIT's risk zones, numbered as the instrument does
        *("PDF", "Excel", "CSV", "csv", "xlsx", "docx", "txt", "mp4", "webm", "ics", "JSON"),
        *("HTML", "zip", "ZIP", "WebVTT", "vtt"),  # "WebVTT": the captions file format
        *("AVIF", "GIF", "JPG", "JPEG", "PNG", "WEBP"),
        *("QR", "ID", "IP", "URL", "HTTP", "HTTPS", "http", "https", "SMS", "TOTP"),
        *("Jitsi", "JaaS"),
        *("Ctrl", "Mac"),  # keys on the keyboard
        # Units after numbers: file sizes, image dimensions.
        *("KB", "MB", "GB", "px"),
        # The language switcher names each language in its own language.
        "English",
    }
)
# Not pages for a person: the monitoring endpoint names its checks as the code does.
NOT_SCANNED = {"health"}
# Data, not interface: e-mail addresses, web addresses and file names.
DATA_PATTERNS = re.compile(
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+"  # e-mail
    r"|(https?://|/)[\w./?=&%#:-]*"  # addresses and paths
    r"|\b[\w-]+\.(pdf|xlsx|csv|docx|png|jpg|ics)\b"  # file names
    r"|\{\w+\}"  # placeholders in a reminder text ({name}, {days_left})
    r"|\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\b"  # setting names (CSP_MEDIA_SRC)
    r"|\b[A-Z0-9]{4}(-[A-Z0-9]{4})+\b"  # certificate codes
    r"|\bv\d+\b"  # version numbers (v1)
    r"|\b\d+x\d+\b"  # image dimensions (4x3)
    r"|\b[a-z]+\d+\b"  # the instruments' short names (phq9, gad7)
    r"|(python )?manage\.py [\w-]+( --[\w-]+)*|\bmake run\b",  # commands for administrators
    re.IGNORECASE,
)
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’][A-Za-z]+)*")
# A Chinese label followed by a half-width colon; "时:分" is a time format (hours:minutes).
HALF_WIDTH_COLON = re.compile(r"[\u4e00-\u9fff]\s*:")
TIME_FORMAT = "时:分"


def data_values(org: Org) -> set[str]:
    """Latin text the factories stored: usernames and names (``officer``), case numbers
    (``CASE-00001``), office codes. A page may show them; they are the person's data."""
    users = [getattr(org, role) for role in SIGNED_IN]
    values = {u.username for u in users} | {u.name for u in users}
    values |= set(User.objects.values_list("username", flat=True))  # the policies' spare_lecturer
    values |= {org.person.case_number, org.other_person.case_number}
    values |= {org.bureau.code, org.east.code, org.west.code}
    # Named by editors and administrators: page titles (Wagtail's "Root", the tests' courses),
    # workflows and their tasks, the instruments' short names (phq9).
    values |= set(Page.objects.values_list("title", flat=True))
    values |= set(Workflow.objects.values_list("name", flat=True))
    values |= set(Task.objects.values_list("name", flat=True))
    values |= set(Instrument.objects.values_list("slug", flat=True))
    values.add("matrix sample")  # what the sample plan's counselor wrote (tests/plans/helpers.py)
    values.add("matrix")  # the policies' sample notification title and requirement key
    return {v for v in values if v}


# --- Visible text ---------------------------------------------------------------------------

# ``<code>``, ``<kbd>``, ``<samp>``: commands and identifiers, typed as they are.
SKIPPED_TAGS = {"script", "style", "template", "noscript", "svg", "head", "code", "kbd", "samp"}
TEXT_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.IGNORECASE)


def _hidden(element) -> bool:
    if not isinstance(element.tag, str):  # comments, processing instructions
        return True
    if element.tag.lower() in SKIPPED_TAGS:
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    # HTML's own mark for content that is not text to translate (a rule set edited as JSON,
    # whose bilingual titles are data): the element and what it holds are skipped.
    if element.get("translate") == "no":
        return True
    return bool(HIDDEN_STYLE.search(element.get("style", "")))


def _texts(element) -> Iterator[str]:
    if _hidden(element):
        return
    for name in TEXT_ATTRIBUTES:
        if element.get(name):
            yield element.get(name)
    if element.tag == "input" and element.get("type") in ("submit", "button", "reset"):
        yield element.get("value", "")
    if element.tag == "title" or element.text:
        yield element.text or ""
    for child in element:
        yield from _texts(child)
        if child.tail:  # the text after a child belongs to this (visible) element
            yield child.tail


def visible_text(html: str, *, title: bool = True, messages: bool = True) -> list[str]:
    document = lxml.html.document_fromstring(html)
    if not messages:
        for element in document.find_class("messages"):
            element.drop_tree()
    head_title = document.find("head/title") if title else None
    texts = [head_title.text_content()] if head_title is not None else []
    body = document.find("body")
    if body is not None:
        texts += list(_texts(body))
    return [" ".join(t.split()) for t in texts if t and t.strip()]


def latin_words(texts: list[str], data: set[str]) -> dict[str, str]:
    """The offending words, each with the first text it was found in."""
    found: dict[str, str] = {}
    for text in texts:
        cleaned = text
        for value in sorted(data, key=len, reverse=True):
            cleaned = cleaned.replace(value, " ")
        cleaned = DATA_PATTERNS.sub(" ", cleaned)
        for word in LATIN_WORD.findall(cleaned):
            if word not in ALLOWED_WORDS:
                found.setdefault(word, text)
    return found


def half_width_colons(texts: list[str]) -> dict[str, str]:
    """``{":": the first text with a half-width colon after a Chinese character}``."""
    for text in texts:
        if HALF_WIDTH_COLON.search(text.replace(TIME_FORMAT, "")):
            return {":": text}
    return {}


# --- The data the scan needs ------------------------------------------------------------------


IMAGE_TITLE = "扫描用图片"


def _png() -> ImageFile:
    buffer = BytesIO()
    PILImage.new("RGB", (4, 3), "white").save(buffer, "PNG")
    return ImageFile(buffer, name="scan.png")


@pytest.fixture
def scan_org(org, settings, tmp_path) -> Org:
    """``org`` with what the pages that list history, moderation and images need to show
    their rows: an image, the home page in review (a workflow and a task in progress) and an
    entry in the site history for an object of every kind staff edit in the admin, so that
    every model's name appears in the reports' "Type" column and filter."""
    settings.MEDIA_ROOT = tmp_path
    admin = org.administrator
    Image.objects.create(title=IMAGE_TITLE, file=_png(), uploaded_by_user=admin)

    # A course in review: the editor's workflow reports list it ("By task").
    course = make_course(lessons=1, quiz=False)
    workflow = ensure_course_permissions(course_index())
    course.save_revision(user=org.lecturer, log_action=True)
    workflow.start(course, org.lecturer)

    finder = AdminURLFinder()
    for model in apps.get_models():
        instance = model._default_manager.order_by("pk").first()
        if instance is not None and finder.get_edit_url(instance):
            log(instance=instance, action="wagtail.edit", user=admin)
    return org


# --- The scan -------------------------------------------------------------------------------


def _allows(expected: Expect) -> bool:
    if isinstance(expected, frozenset):
        return OK in expected
    return expected in (OK, ANY)


class Scan:
    def __init__(self, org: Org):
        self.org = org
        self.clients: dict[str, Client] = {}
        self.pages = 0
        self.posts = 0
        # url -> (words, the texts they were found in) -> roles
        self.findings: dict[str, dict[tuple[str, ...], list[str]]] = {}
        self.headless: dict[str, list[str]] = {}

    def client(self, role: str) -> Client:
        if role not in self.clients:
            client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=LANGUAGE)
            client.cookies["django_language"] = LANGUAGE
            if role != "anonymous":
                login_staff(client, getattr(self.org, role))
            self.clients[role] = client
        return self.clients[role]

    def visit(self, url: str, role: str, data: dict[str, str] | None = None) -> None:
        """GET ``url`` as ``role``, or POST ``data`` to it (the form's errors, or the page a
        redirect leads to with its message), and scan the page the person is shown."""
        client = self.client(role)
        if data is None:
            response = client.get(url)
        else:
            response = client.post(url, data, follow=True)
            client.cookies["django_language"] = LANGUAGE
            if role != "anonymous" and SESSION_KEY not in client.session:
                del self.clients[role]  # the POST signed the role out: sign in again next time
        if response.status_code not in (200, 400) or getattr(response, "streaming", False):
            return
        if not response.get("Content-Type", "").startswith("text/html"):
            return
        self.pages += 1
        self.posts += data is not None
        # Read per page: a route's sample parameters may have just created a course.
        html = response.content.decode()
        whole_page = "<html" in html and not url.startswith("/django-admin/")
        if data is None and whole_page and not re.search(r"<h1[\s>]", html):
            # a page's title is its one h1 (a template that names a variable "heading" made
            # Wagtail's header drop it: shared/header.html reads "heading" as its own)
            self.headless.setdefault(url, []).append(role)
        found = latin_words(visible_text(html), data_values(self.org))
        found.update(half_width_colons(visible_text(html, title=False, messages=False)))
        if found:
            words = sorted(found)
            seen_in = dict.fromkeys(found[w][:80] for w in words)
            key = (", ".join(words), *list(seen_in)[:4])
            where = url if data is None else f"POST {url}"
            self.findings.setdefault(where, {}).setdefault(key, []).append(role)

    def lines(self) -> list[str]:
        lines = [f"{url} as {', '.join(roles)}: no h1" for url, roles in self.headless.items()]
        for url, by_words in self.findings.items():
            for (words, *texts), roles in by_words.items():
                lines.append(f"{url} as {', '.join(roles)}: {words}")
                lines += [f"    in: {text!r}" for text in texts]
        return lines

    def report(self, part: str, capsys) -> None:
        with capsys.disabled():
            print(  # noqa: T201 - the scan's summary line
                f"\nzh-hans scan ({part}): {self.pages} pages ({self.posts} after a POST), "
                f"{len(self.findings)} with English"
            )
        assert not self.findings and not self.headless, (
            "English words (or no h1) on Chinese pages:\n" + "\n".join(self.lines())
        )


def _posts(expected: Expect | None) -> bool:
    """A POST the role may make: its answer (form errors) or where it leads (a message)."""
    answers = {OK, BAD, REDIRECT}
    if isinstance(expected, frozenset):
        return bool(expected & answers)
    return expected in answers


# POSTs not scanned: they sign out or switch the language to English.
NOT_POSTED = {"logout", "set_language"}
# Staff forms the matrix does not POST to (Wagtail viewsets): an empty form, scanned too.
EXTRA_FORMS = (("lectures:add", ("lecturer", "administrator")),)
# The forms the scan must reach with invalid data (issue #19 item 5): a test below fails
# if the matrix stops POSTing to one of them.
REPRESENTATIVE_FORMS = {
    "plans_rules_cell",
    "learning_absence_decide",
    "learning_enroll",
    "people_staff_reset_two_factor",
    "people_activation_issue",
    "lectures:add",
}

CHUNKS = 8


def _chunk(index: int) -> list:
    routes = list(iter_routes())
    size = -(-len(routes) // CHUNKS)
    return routes[index * size : (index + 1) * size]


@pytest.mark.django_db
@pytest.mark.parametrize("chunk", range(CHUNKS), ids=lambda n: f"{n + 1}of{CHUNKS}")
def test_pages_show_no_english_in_chinese(scan_org, chunk, capsys):
    """Every page as each role allowed to see it, and in the matrix's order (which some rules
    rely on) each POST the role may make with the matrix's data, mostly empty: the form's
    errors or the message after the redirect."""
    scan = Scan(scan_org)
    for route in _chunk(chunk):
        rule = rule_for(route.route, route.name, route.module)
        if rule is None or route.name in NOT_SCANNED:
            continue  # an undeclared route fails test_every_route_is_declared
        url = route.url(rule.params(scan_org) if rule.params else None)
        if resolve(urlsplit(url).path).route != route.route:
            continue  # the matrix reports wrong samples
        for role in ROLES:
            if _allows(rule.get[role]):
                scan.visit(url, role)
            if rule.post is not None and route.name not in NOT_POSTED and _posts(rule.post[role]):
                scan.visit(url, role, rule.post_data)
    scan.report(f"routes {chunk + 1}/{CHUNKS}", capsys)


@pytest.mark.django_db
def test_staff_forms_with_invalid_data_show_no_english_in_chinese(scan_org, capsys):
    scan = Scan(scan_org)
    for name, roles in EXTRA_FORMS:
        for role in roles:
            scan.visit(reverse(name), role, {})
    assert scan.posts == sum(len(roles) for _, roles in EXTRA_FORMS)
    scan.report("staff forms", capsys)


def test_representative_staff_forms_are_posted():
    posted = {name for name, _ in EXTRA_FORMS}
    for route in iter_routes():
        rule = rule_for(route.route, route.name, route.module)
        if rule and rule.post and route.name not in NOT_POSTED:
            if any(_posts(rule.post[role]) for role in ROLES):
                posted.add(route.name)
    assert REPRESENTATIVE_FORMS <= posted, REPRESENTATIVE_FORMS - posted


@pytest.mark.django_db
def test_object_pages_show_no_english_in_chinese(scan_org, capsys):
    scan = Scan(scan_org)
    by_name = {r.name: r for r in iter_routes() if r.name}
    for name, method, expect_for in OBJECT_PROBES:
        if method != "get":
            continue
        for obj in SCOPE:
            url = by_name[name].url({"pk": str(object_pk(scan_org, obj))})
            for role, expected in expect_for(obj).items():
                if _allows(expected):
                    scan.visit(url, role)
    scan.report("object pages", capsys)


@pytest.mark.django_db
def test_reports_have_rows_for_the_scan_to_read(scan_org):
    """The fixture does its job: the reports the scan reads are not empty."""
    scan = Scan(scan_org)
    history = scan.client("administrator").get(reverse("wagtailadmin_reports:site_history"))
    assert IMAGE_TITLE in history.content.decode()
    course = CoursePage.objects.get()
    for name in ("workflow", "workflow_tasks", "site_history"):
        page = scan.client("editor").get(reverse(f"wagtailadmin_reports:{name}"))
        assert page.status_code == 200
        assert course.title in page.content.decode()


@pytest.mark.django_db
def test_wagtail_users_list_shows_yes_not_true(scan_org, capsys):
    """Only superusers reach Wagtail's users list (staff are managed on our staff pages);
    its "Active" column said "True" in Chinese too."""
    scan_org.administrator.is_superuser = True
    scan_org.administrator.save(update_fields=["is_superuser"])
    scan = Scan(scan_org)
    users = scan.client("administrator").get(reverse("wagtailusers_users:index"))
    active = re.findall(r'<td class="status">.*?w-sr-only">\s*(\w+)', users.content.decode(), re.S)
    assert active and set(active) == {"是"}, users.status_code
    scan.visit(reverse("wagtailusers_users:index"), "administrator")
    scan.report("Wagtail users list", capsys)


@pytest.mark.django_db
def test_enrollment_list_with_rows_shows_no_english_in_chinese(scan_org, capsys):
    """The enrolment list on Wagtail's IndexView with rows, a certificate and an assigner, its
    filters, an empty search, and the list as an officer."""
    from django.utils import timezone

    from learning.certificates import do_issue_certificate
    from learning.models import Enrollment, LessonProgress
    from tests.learning.builders import lessons_of

    course = CoursePage.objects.get()
    Enrollment.objects.create(person=scan_org.person, course=course, assigned_by=scan_org.officer)
    LessonProgress.objects.create(
        person=scan_org.person,
        lesson=lessons_of(course)[0],
        credited_seconds=600,
        completed_at=timezone.now(),
    )
    do_issue_certificate(scan_org.person, course)
    scan = Scan(scan_org)
    url = reverse("learning_enrollment_list")
    page = scan.client("administrator").get(url).content.decode()
    assert scan_org.person.case_number in page and "/pdf/" in page
    for query in ("", f"?course={course.pk}&office={scan_org.east.pk}", "?q=nobody-here"):
        scan.visit(url + query, "administrator")
    scan.visit(url, "officer")
    scan.report("enrolment list", capsys)


# --- The extractor itself -------------------------------------------------------------------


def test_visible_text_skips_scripts_hidden_elements_and_plain_attributes():
    html = """<html><head><title>标题 Title</title><script>var English = 1;</script></head>
    <body><p class="English">可见 Visible<span hidden>Hidden</span> tail</p>
    <div style="display: none">Gone</div><svg><title>Icon</title></svg>
    <input type="submit" value="Save"><input type="text" value="typed data">
    <a title="Tip" href="/x">链接</a><template>Later</template></body></html>"""
    assert set(latin_words(visible_text(html), set())) == {
        "Title",
        "Visible",
        "tail",
        "Save",
        "Tip",
    }


def test_allow_list_and_data_are_not_findings():
    texts = ["PHQ-9 量表 PDF 10 MB", "officer 发给 a@b.example 的 /admin/x/", "CASE-00001 报告.pdf"]
    assert latin_words(texts, {"officer", "CASE-00001"}) == {}
    assert latin_words(["Updated 3 月"], set()) == {"Updated": "Updated 3 月"}


def test_a_half_width_colon_after_chinese_is_a_finding():
    assert half_width_colons(["目标：5", "目标: 5"]) == {":": "目标: 5"}
    assert half_width_colons(["目标：5", "学习时长（时:分）", "10:30 开始", "PHQ-9: 12"]) == {}
