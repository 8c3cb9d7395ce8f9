"""WCAG 1.2.2: a lesson video may carry captions (a WebVTT document) and a transcript; the
player gets a captions track and the page a transcript anyone can open."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from wagtail import blocks
from wagtail.documents.models import Document

from courses.demo import DEMO_CAPTIONS, demo_transcript
from courses.models import VideoBlock

pytestmark = pytest.mark.django_db

VTT = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\n按时报到。\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _document(name: str, text: str) -> Document:
    document = Document(title=name, file=ContentFile(text.encode(), name=name))
    document.save()
    return document


def _video(**extra):
    block = VideoBlock()
    return block, block.to_python(
        {"url": "https://example.org/v.mp4", "duration_seconds": 30, **extra}
    )


def test_captions_become_a_track_and_the_transcript_a_details(media):
    captions = _document("lesson.vtt", VTT)
    block, value = _video(captions=captions.pk, transcript="第一句。\n\n第二句。")
    html = block.render(value)
    assert '<track kind="captions"' in html and f'src="{captions.url}"' in html
    assert 'srclang="zh-Hans"' in html
    assert '<details class="transcript"' in html and "<p>第一句。</p>" in html


def test_a_video_without_them_has_no_track_and_no_transcript(media):
    block, value = _video()
    html = block.render(value)
    assert "<track" not in html and "<details" not in html


def test_captions_must_be_a_webvtt_file(media):
    block, value = _video(captions=_document("notes.txt", "hello").pk)
    with pytest.raises(blocks.StructBlockValidationError) as raised:
        block.clean(value)
    assert "captions" in raised.value.block_errors
    block.clean(_video(captions=_document("ok.vtt", VTT).pk)[1])  # a .vtt passes


def test_the_demo_transcript_is_the_captions_text():
    assert DEMO_CAPTIONS.read_text(encoding="utf-8").startswith("WEBVTT")
    paragraphs = demo_transcript().split("\n\n")
    assert len(paragraphs) == 5 and "-->" not in demo_transcript()
    assert paragraphs[2].startswith("二、外出须批准")
