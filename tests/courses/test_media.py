"""Reading a video's real duration, and the demo lesson video that relies on it."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from courses.demo import (
    DEMO_CAPTIONS_TITLE,
    DEMO_VIDEO,
    DEMO_VIDEO_TITLE,
    attach_demo_video,
    demo_video_seconds,
)
from courses.media import NotAnMP4, mp4_duration
from courses.models import LessonPage
from learning.demo import seed_courses
from tests.factories import login_staff


def box(kind: bytes, payload: bytes, *, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mvhd(timescale: int, duration: int, version: int) -> bytes:
    if version == 1:
        fields = struct.pack(">BxxxQQIQ", 1, 0, 0, timescale, duration)
    else:
        fields = struct.pack(">BxxxIIII", 0, 0, 0, timescale, duration)
    return box(b"mvhd", fields + bytes(80))  # rate, volume, matrix, next track id


@st.composite
def mp4_files(draw):
    version = draw(st.sampled_from([0, 1]))
    timescale = draw(st.integers(1, 2**32 - 1))
    limit = 2**32 - 2 if version == 0 else 2**63
    duration = draw(st.integers(1, limit))
    padding = st.binary(max_size=40)
    moov_children = [
        *(box(b"trak", p) for p in draw(st.lists(padding, max_size=2))),
        mvhd(timescale, duration, version),
        *(box(b"udta", p) for p in draw(st.lists(padding, max_size=2))),
    ]
    moov = box(b"moov", b"".join(moov_children), large=draw(st.booleans()))
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
    media = box(b"mdat", draw(padding), large=draw(st.booleans()))
    # ``faststart`` files put moov first; others after the media data.
    body = [ftyp, moov, media] if draw(st.booleans()) else [ftyp, media, moov]
    if draw(st.booleans()):  # a last box with size 0 runs to the end of the file
        body.append(struct.pack(">I4s", 0, b"free") + draw(padding))
    return b"".join(body), duration / timescale


@given(mp4_files())
def test_it_reads_the_movie_duration_wherever_the_header_sits(case):
    data, seconds = case
    assert mp4_duration(io.BytesIO(data)) == seconds


@given(st.binary(max_size=200))
def test_it_refuses_anything_else_with_a_clear_error(data):
    try:
        mp4_duration(io.BytesIO(data))
    except NotAnMP4:
        pass


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        box(b"ftyp", b"isom") + box(b"mdat", b"x"),
        box(b"moov", box(b"trak", b"")),
        box(b"moov", mvhd(0, 10, 0)),
        box(b"moov", mvhd(600, 0xFFFFFFFF, 0)),
        box(b"moov", mvhd(600, 0, 1)),
        box(b"moov", box(b"mvhd", b"\x02\x00\x00\x00" + bytes(96))),
        struct.pack(">I4s", 4, b"moov"),
        struct.pack(">I4s", 4000, b"moov") + b"short",
    ],
    ids=[
        "empty",
        "wav",
        "no-moov",
        "no-mvhd",
        "zero-scale",
        "unknown",
        "fragmented",
        "version",
        "tiny",
        "long",
    ],
)
def test_it_names_what_is_wrong(data):
    with pytest.raises(NotAnMP4):
        mp4_duration(io.BytesIO(data))


def _track_media_seconds(data: bytes) -> float:
    """The video track's own length (``mdhd``), found by a plain byte search: a check on
    ``mp4_duration`` that does not walk the boxes the same way."""
    at = data.index(b"mdhd") + 4
    version = data[at]
    if version == 1:
        timescale, duration = struct.unpack(">IQ", data[at + 20 : at + 32])
    else:
        timescale, duration = struct.unpack(">II", data[at + 12 : at + 20])
    return duration / timescale


def test_the_demo_video_is_a_small_real_video_of_its_stated_length():
    data = DEMO_VIDEO.read_bytes()
    assert len(data) < 1_000_000
    with DEMO_VIDEO.open("rb") as stream:
        seconds = mp4_duration(stream)
    assert 30 <= seconds <= 60
    assert seconds == pytest.approx(_track_media_seconds(data), abs=0.5)
    assert demo_video_seconds() == round(seconds)


@pytest.fixture
def demo_courses(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    seed_courses()
    return LessonPage.objects.get(slug="reporting")


@pytest.mark.django_db
def test_the_demo_lesson_declares_the_videos_real_duration(demo_courses):
    lesson = demo_courses
    videos = [block.value for block in lesson.body if block.block_type == "video"]
    assert len(videos) == 1
    video = videos[0]
    with video["document"].open_file() as stream:
        stored = stream.read()
        real = mp4_duration(io.BytesIO(stored))
    assert stored == DEMO_VIDEO.read_bytes()
    assert video["duration_seconds"] == round(real)
    # Only playing time counts on a video lesson, so the lesson is as long as its video.
    assert lesson.expected_seconds == round(real)


@pytest.mark.django_db
def test_seeding_again_keeps_one_video_and_one_document(demo_courses):
    from wagtail.documents.models import Document

    seed_courses()
    lesson = LessonPage.objects.get(pk=demo_courses.pk)
    attach_demo_video(lesson)
    lesson.refresh_from_db()
    assert [block.block_type for block in lesson.body].count("video") == 1
    # the video and its captions, each uploaded once
    assert sorted(Document.objects.values_list("title", flat=True)) == sorted(
        [DEMO_VIDEO_TITLE, DEMO_CAPTIONS_TITLE]
    )


@pytest.mark.django_db
def test_an_enrolled_learner_gets_a_playable_video(demo_courses, org, client):
    from learning.models import Enrollment

    Enrollment.objects.create(person=org.person, course=demo_courses.get_parent().specific)
    login_staff(client, org.learner)
    page = client.get(demo_courses.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-video="1"' in html
    document = next(b.value["document"] for b in demo_courses.body if b.block_type == "video")
    assert f'src="{document.url}"' in html
    assert "playsinline" in html

    served = client.get(document.url)
    assert served.status_code == 200
    assert served["Content-Type"] == "video/mp4"
    assert b"".join(served.streaming_content) == DEMO_VIDEO.read_bytes()
