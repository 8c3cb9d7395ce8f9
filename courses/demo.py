"""The demo lesson video for ``seed_demo`` (``learning.demo.seed_courses`` calls this).

``demo_media/reporting.mp4`` is a 45-second title-card video (``make_demo_video.py`` made
it). Its duration is read from the file, never typed in, so the lesson's expected time and the
video block's stated length always match what the learner's player plays.
"""

from __future__ import annotations

from pathlib import Path

from django.core.files import File
from django.db import transaction
from wagtail.documents.models import Document

from courses.media import mp4_duration
from courses.models import LessonPage

DEMO_VIDEO = Path(__file__).resolve().parent / "demo_media" / "reporting.mp4"
DEMO_VIDEO_TITLE = "示范课程短片：报告与外出审批"
DEMO_VIDEO_CAPTION = "短片：报告与外出审批"
# The cards' words as timed captions (WCAG 1.2.2) and, below the player, as a transcript.
DEMO_CAPTIONS = DEMO_VIDEO.with_suffix(".vtt")
DEMO_CAPTIONS_TITLE = "示范课程短片字幕：报告与外出审批"


def demo_video_seconds() -> int:
    """The demo video's real length in whole seconds."""
    with DEMO_VIDEO.open("rb") as stream:
        return max(1, round(mp4_duration(stream)))


def demo_video_document() -> Document:
    """The demo video as a Wagtail document (uploaded once, found by title afterwards)."""
    document = Document.objects.filter(title=DEMO_VIDEO_TITLE).first()
    if document is None:
        with DEMO_VIDEO.open("rb") as stream:
            document = Document(title=DEMO_VIDEO_TITLE, file=File(stream, name=DEMO_VIDEO.name))
            document._set_document_file_metadata()
            document.save()
    return document


def demo_captions_document() -> Document:
    """The demo video's WebVTT captions as a Wagtail document (uploaded once)."""
    document = Document.objects.filter(title=DEMO_CAPTIONS_TITLE).first()
    if document is None:
        with DEMO_CAPTIONS.open("rb") as stream:
            document = Document(
                title=DEMO_CAPTIONS_TITLE, file=File(stream, name=DEMO_CAPTIONS.name)
            )
            document._set_document_file_metadata()
            document.save()
    return document


def demo_transcript() -> str:
    """The captions' cue texts, one paragraph each (no header, numbers or timings)."""
    blocks = DEMO_CAPTIONS.read_text(encoding="utf-8").strip().split("\n\n")[1:]
    return "\n\n".join(block.splitlines()[-1] for block in blocks)


@transaction.atomic
def attach_demo_video(lesson: LessonPage) -> None:
    """Put the demo video first in ``lesson``'s body, with its real duration.

    A lesson with a video is credited only while the video plays (``static/js/heartbeat.js``),
    so the lesson's expected time becomes the video's length. Does nothing if the lesson
    already has a video block, so an editor's later changes are kept."""
    if lesson.has_video():
        return
    seconds = demo_video_seconds()
    video = lesson.body.stream_block.child_blocks["video"].to_python(
        {
            "document": demo_video_document().pk,
            "url": "",
            "duration_seconds": seconds,
            "caption": DEMO_VIDEO_CAPTION,
            "captions": demo_captions_document().pk,
            "transcript": demo_transcript(),
        }
    )
    lesson.body.insert(0, ("video", video))
    lesson.expected_seconds = seconds
    lesson.save(update_fields=["body", "expected_seconds"])
