from __future__ import annotations

import io

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation

from people.models import Office, Person
from people.services import check_roster, read_roster
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Command output follows the active language; these tests read it in English."""
    with translation.override("en"):
        yield


HEADER = "矫正编号,姓名,司法所,管理类别,矫正开始,矫正结束,心理咨询师,矫正工作人员,上级单位\n"


def write(tmp_path, text: str, name: str = "roster.csv"):
    path = tmp_path / name
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def test_good_csv_creates_persons_and_office(tmp_path, org, capsys):
    path = write(
        tmp_path,
        "R-1,王五,东司法所,严管,2026-01-01,2026-12-31,counselor,officer,\n"
        "R-2,赵六,北司法所,普管,2026/02/01,2027/01/31,,,测试区司法局\n",
    )
    call_command("import_roster", str(path))
    assert "2 person(s) created" in capsys.readouterr().out
    r1 = Person.objects.get(case_number="R-1")
    assert r1.office == org.east and r1.category == "strict"
    assert r1.case_officer == org.officer
    assert list(r1.counselors.all()) == [org.counselor]
    assert r1.user.groups.filter(name="learner").exists()
    north = Office.objects.get(name="北司法所")
    assert north.get_parent() == org.bureau
    assert Person.objects.get(case_number="R-2").office == north


def test_import_updates_existing_person(tmp_path, org):
    case = org.person.case_number
    path = write(tmp_path, f"{case},张三,西司法所,宽管,2026-01-01,2026-06-30,,,\n")
    call_command("import_roster", str(path))
    org.person.refresh_from_db()
    assert org.person.office == org.west
    assert org.person.category == "lenient"
    assert org.person.user == org.learner


def test_xlsx_is_accepted(tmp_path, org):
    frame = pd.DataFrame(
        [
            {
                "case_number": "X-1",
                "name": "孙七",
                "office": "east",
                "category": "normal",
                "supervision_start": "2026-03-01",
                "supervision_end": "2026-09-01",
            }
        ]
    )
    path = tmp_path / "roster.xlsx"
    frame.to_excel(path, index=False)
    call_command("import_roster", str(path))
    assert Person.objects.get(case_number="X-1").office == org.east


def test_bad_rows_import_nothing_and_are_all_reported(tmp_path, org, capsys):
    before = Person.objects.count()
    path = write(
        tmp_path,
        "OK-1,好人,东司法所,普管,2026-01-01,2026-12-31,,,\n"
        ",无编号,东司法所,普管,2026-01-01,2026-12-31,,,\n"
        "B-2,甲,火星司法所,普管,2026-01-01,2026-12-31,,,\n"
        "B-3,乙,东司法所,普管,2026-05-01,2026-01-01,,,\n"
        "OK-1,丙,东司法所,普管,2026-01-01,2026-12-31,,,\n",
    )
    with pytest.raises(CommandError, match="4 bad row"):
        call_command("import_roster", str(path))
    err = capsys.readouterr().err
    assert "line 3: missing case number" in err
    assert "line 4: unknown office 火星司法所" in err
    assert "line 5: supervision end is before its start" in err
    assert "line 6: duplicate case number OK-1 (also on line 2)" in err
    assert Person.objects.count() == before
    assert not Person.objects.filter(case_number="OK-1").exists()


def test_unknown_staff_and_bad_values_are_reported(org):
    frame = read_roster(
        io.BytesIO(
            (HEADER + "C-1,丁,东司法所,特管,2026-13-01,2026-12-31,nobody,learner,\n").encode()
        ),
        filename="r.csv",
    )
    report = check_roster(frame)
    ((line, reason),) = report.errors
    assert line == 2
    for expected in (
        "unknown supervision category",
        "supervision start is not a date",
        "unknown counselor nobody",
        "unknown case officer learner",
    ):
        assert expected in reason


def test_missing_columns_is_a_clear_error(tmp_path, org):
    path = tmp_path / "bad.csv"
    path.write_text("name,office\n甲,东司法所\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Missing columns"):
        call_command("import_roster", str(path))


def test_wrong_file_type_is_rejected(tmp_path, org):
    path = tmp_path / "roster.txt"
    path.write_text("hello")
    with pytest.raises(CommandError, match=r"\.xlsx or \.csv"):
        call_command("import_roster", str(path))


def test_admin_upload_uses_same_validation(client, org):
    login_staff(client, org.administrator)
    bad = io.BytesIO((HEADER + ",无编号,东司法所,普管,2026-01-01,2026-12-31,,,\n").encode())
    bad.name = "roster.csv"
    response = client.post(reverse("people_roster_import"), {"file": bad})
    assert response.status_code == 200
    assert "缺少矫正编号" in response.text  # the admin speaks the user's language
    good = io.BytesIO((HEADER + "U-1,戊,西司法所,普管,2026-01-01,2026-12-31,,,\n").encode())
    good.name = "roster.csv"
    response = client.post(reverse("people_roster_import"), {"file": good})
    assert 'data-testid="roster-summary"' in response.text
    assert Person.objects.filter(case_number="U-1").exists()


@pytest.mark.parametrize("role", ["officer", "counselor", "lecturer", "learner", "outsider"])
def test_only_administrators_may_upload(client, org, role):
    login_staff(client, getattr(org, role))
    response = client.get(reverse("people_roster_import"))
    assert response.status_code in (302, 403)
