"""The file's PDF: cover, contents as bookmarks and links, a section per catalogue entry,
page numbers, and the two copies (no answers or scores in the officer's)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from django.utils.translation import override
from pypdf import PdfReader

from dossiers.pdf import Copy, FileInfo, render_copy
from dossiers.rules import MonthRecord, QuestionnaireRecord, Snapshot
from dossiers.schema import CatalogueDef, default_catalogue
from dossiers.services import evaluate_catalogue

CATALOGUE = CatalogueDef.model_validate(default_catalogue())
INFO = FileInfo("王警官", dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), 1, 1)


def busy_snapshot() -> Snapshot:
    start = dt.date(2025, 1, 1)
    return Snapshot(
        person_id=1,
        case_number="C-0001",
        full_name="张三",
        office="东司法所",
        supervision_start=start,
        supervision_end=dt.date(2025, 12, 31),
        read_on=dt.date(2026, 1, 1),
        months=tuple(MonthRecord(dt.date(2025, m, 1), "met", 500, 480) for m in range(1, 13)),
        questionnaires=(
            QuestionnaireRecord(
                1,
                "intake",
                "PHQ-9",
                "submitted",
                submitted_on=start,
                reviewed_on=start,
                scores=(("total", "SCORE17 (moderate)"),),
                answers=("3", "2", "1"),
            ),
        ),
    )


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def copies() -> dict[str, bytes]:
    snapshot = busy_snapshot()
    with override("zh-hans"), timezone.override("Asia/Shanghai"):
        verdicts = evaluate_catalogue(CATALOGUE, snapshot)
        return {copy: render_copy(snapshot, CATALOGUE, verdicts, copy, INFO) for copy in Copy}


def test_every_section_is_a_bookmark_on_the_page_the_contents_name(copies):
    reader = PdfReader(io.BytesIO(copies[Copy.OFFICER]))
    outline = {item.title: reader.get_destination_page_number(item) for item in reader.outline}
    for number, section in enumerate(CATALOGUE.sections, start=1):
        title = f"{number}. {section.title_zh}"
        assert title in outline
        page = outline[title]
        assert section.title_zh in reader.pages[page].extract_text()
        contents = reader.pages[1].extract_text()
        assert section.title_zh in contents
    # Sections start on their own pages after the cover and the contents.
    assert sorted(outline.values())[0] == 0 and len(set(outline.values())) == len(outline)


def test_every_page_says_who_generated_it_and_which_page_of_how_many(copies):
    reader = PdfReader(io.BytesIO(copies[Copy.OFFICER]))
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert "王警官" in text
        assert "2026-01-02 11:04" in text  # Beijing time
        assert f"{number}" in text and f"{total}" in text


def test_the_officers_copy_has_no_answers_or_scores_and_the_counselors_has(copies):
    officer = text_of(copies[Copy.OFFICER])
    counselor = text_of(copies[Copy.COUNSELOR])
    assert "SCORE17" not in officer
    assert "SCORE17" in counselor.replace("\n", "")
    assert "PHQ-9" in officer  # the questionnaire itself is listed


def test_each_section_states_its_verdict_and_what_is_missing(copies):
    text = text_of(copies[Copy.OFFICER])
    assert "完整" in text
    # No exit questionnaire: the questionnaires section is incomplete and says why.
    assert "不完整" in text
