from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from assessments.models import Instrument, InstrumentVersion
from assessments.services import definition_checksum, get_instrument_definition
from tests.assessments.conftest import SHIPPED_SLUGS, load_def, raw_file

ROOT = Path(__file__).resolve().parents[2]


def run_score(slug: str, answers: str, capsys) -> dict:
    call_command("score_instrument", slug, "--answers", answers)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return json.loads(out)


# score_instrument ------------------------------------------------------------------------


@pytest.mark.django_db
def test_score_instrument_prints_the_contract(capsys):
    assert run_score("phq9", "[3, 3, 3, 3, 3, 3, 3, 3, 3]", capsys) == {
        "instrument": "phq9",
        "version": 1,
        "scales": {"total": {"raw": 27, "score": 27, "band": "severe"}},
        "critical_items": [9],
    }


@pytest.mark.django_db
def test_score_instrument_reports_the_zung_index_as_score(capsys):
    assert run_score("sds", json.dumps([0] * 20), capsys) == {
        "instrument": "sds",
        "version": 2,
        "scales": {"total": {"raw": 50, "score": 62, "band": "mild"}},
        "critical_items": [],
    }


@pytest.mark.django_db
def test_score_instrument_prints_null_band(capsys):
    result = run_score("rosenberg", json.dumps([0] * 10), capsys)
    assert result["scales"] == {"total": {"raw": 25, "score": 25, "band": None}}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "answers", "message"),
    [
        ("phq9", "[0, 0]", "phq9 has 9 items but 2 answers were given"),
        ("phq9", "[0, 0, 0, 0, 0, 0, 0, 0, 4]", "item 9: option index 4 is out of range 0..3"),
        ("phq9", "[0, 0, 0, 0, 0, 0, 0, 0, -1]", "out of range"),
        ("phq9", "[0, 0", "--answers is not valid JSON"),
        ("phq9", '{"a": 1}', "--answers must be a JSON list"),
        ("nosuch", "[0]", "unknown instrument 'nosuch'"),
    ],
)
def test_score_instrument_errors_have_returncode_2(slug, answers, message):
    with pytest.raises(CommandError, match=message) as exc:
        call_command("score_instrument", slug, "--answers", answers)
    assert exc.value.returncode == 2
    assert "\n" not in str(exc.value)


def manage(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
    # An empty, unmigrated database: the command must score from the shipped files.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/empty.sqlite3"
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def error_lines(stderr: str) -> list[str]:
    # django-axes announces itself on stderr at start-up; that line is not ours.
    return [line for line in stderr.splitlines() if line and not line.startswith("AXES:")]


def test_score_instrument_as_a_process_without_a_loaded_library(tmp_path):
    result = manage(["score_instrument", "gad7", "--answers", "[3, 3, 3, 3, 3, 0, 0]"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "instrument": "gad7",
        "version": 1,
        "scales": {"total": {"raw": 15, "score": 15, "band": "severe"}},
        "critical_items": [],
    }


def test_score_instrument_as_a_process_exits_2_with_one_line(tmp_path):
    result = manage(["score_instrument", "gad7", "--answers", "[1]"], tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert error_lines(result.stderr) == ["CommandError: gad7 has 7 items but 1 answers were given"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ["gad7", "--answers", "[0, 0, 0, 0, 0, 0, 9]"],
        ["gad7", "--answers", "not json"],
        ["gad7", "--answers", "[0, 0, 0, 0, 0, 0, 0.5]"],
        ["nosuch", "--answers", "[0]"],
    ],
)
def test_score_instrument_exits_2_from_the_command_line(args, capsys, monkeypatch):
    """Through ``run_from_argv`` (what manage.py does), in process to keep the suite fast."""
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["manage.py", "score_instrument", *args]).execute()
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(error_lines(captured.err)) == 1, captured.err


@pytest.mark.django_db
def test_score_instrument_prefers_the_highest_published_version_in_the_database(tmp_path, capsys):
    data = raw_file("phq9")
    data["version"] = 2
    data["scales"][0]["bands"][0]["high"] = 5
    data["scales"][0]["bands"][1]["low"] = 6
    path = tmp_path / "phq9-v2.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    call_command("load_instruments", str(path))
    capsys.readouterr()
    result = run_score("phq9", "[2, 3, 0, 0, 0, 0, 0, 0, 0]", capsys)
    assert (result["version"], result["scales"]["total"]["band"]) == (2, "minimal")


# load_instruments ------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_instruments_loads_every_shipped_file(capsys):
    call_command("load_instruments")
    assert sorted(Instrument.objects.values_list("slug", flat=True)) == SHIPPED_SLUGS
    version = InstrumentVersion.objects.get(instrument__slug="sds")
    assert (version.version, version.published) == (2, True)
    assert version.checksum == definition_checksum(load_def("sds"))
    assert version.as_definition().model_dump() == load_def("sds").model_dump()
    assert Instrument.objects.get(slug="phq9").title["zh-hans"].startswith("患者健康问卷")
    assert "sds v2 created" in capsys.readouterr().out


@pytest.mark.django_db
def test_an_identical_reload_is_a_no_op(capsys):
    call_command("load_instruments")
    before = list(InstrumentVersion.objects.values_list("pk", "checksum", "loaded_at"))
    capsys.readouterr()
    call_command("load_instruments")
    assert list(InstrumentVersion.objects.values_list("pk", "checksum", "loaded_at")) == before
    assert capsys.readouterr().out.count("unchanged") == len(SHIPPED_SLUGS)


@pytest.mark.django_db
def test_a_changed_definition_with_the_same_version_is_refused(tmp_path, capsys):
    call_command("load_instruments")
    data = raw_file("phq9")
    data["scales"][0]["bands"][0]["high"] = 5
    data["scales"][0]["bands"][1]["low"] = 6
    path = tmp_path / "phq9.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    with pytest.raises(CommandError) as exc:
        call_command("load_instruments", str(path))
    assert exc.value.returncode != 0
    err = capsys.readouterr().err
    assert "phq9 version 1 is published" in err
    assert 'Bump "version" to 2' in err
    stored = InstrumentVersion.objects.get(instrument__slug="phq9")
    assert stored.checksum == definition_checksum(load_def("phq9"))


@pytest.mark.django_db
def test_a_new_version_is_accepted_beside_the_old_one(tmp_path, capsys):
    call_command("load_instruments")
    data = raw_file("phq9")
    data["version"] = 2
    data["title"]["en"] = "PHQ-9 (revised)"
    path = tmp_path / "phq9.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    call_command("load_instruments", str(path))
    assert list(
        InstrumentVersion.objects.filter(instrument__slug="phq9").values_list("version", flat=True)
    ) == [2, 1]
    assert Instrument.objects.get(slug="phq9").title["en"] == "PHQ-9 (revised)"
    assert get_instrument_definition("phq9").version == 2
    assert "phq9 v2 created" in capsys.readouterr().out


@pytest.mark.django_db
def test_an_unpublished_draft_may_be_overwritten(tmp_path):
    call_command("load_instruments")
    InstrumentVersion.objects.filter(instrument__slug="gad7").update(published=False)
    data = raw_file("gad7")
    data["description"]["en"] = "Edited"
    path = tmp_path / "gad7.json"
    path.write_text(json.dumps(data))
    call_command("load_instruments", str(path))
    assert (
        InstrumentVersion.objects.get(instrument__slug="gad7").definition["description"]["en"]
        == "Edited"
    )


@pytest.mark.django_db
def test_a_bad_file_is_named_with_its_errors_and_nothing_from_it_loads(tmp_path, capsys):
    data = raw_file("gad7")
    data["slug"] = "gad7x"
    data["scales"][0]["items"].append(8)
    data["surprise"] = True
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError):
        call_command("load_instruments", str(path))
    err = capsys.readouterr().err
    assert f"{path}: invalid instrument file, nothing loaded" in err
    assert "surprise: Extra inputs are not permitted" in err
    assert not Instrument.objects.filter(slug="gad7x").exists()
    # the good shipped files still loaded
    assert Instrument.objects.filter(slug="gad7").exists()


@pytest.mark.django_db
def test_a_file_that_is_not_json_is_reported(tmp_path, capsys):
    path = tmp_path / "garbage.json"
    path.write_text("{not json")
    with pytest.raises(CommandError):
        call_command("load_instruments", str(path))
    err = capsys.readouterr().err
    assert "garbage.json: invalid instrument file" in err
    assert "Invalid JSON" in err


@pytest.mark.django_db
def test_load_instruments_exits_non_zero_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"slug": "bad"}))
    with pytest.raises(SystemExit) as exc:
        ManagementUtility(["manage.py", "load_instruments", str(bad)]).execute()
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "bad.json: invalid instrument file" in err
    assert "version: Field required" in err
