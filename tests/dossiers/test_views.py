"""Staff pages of the files: who sees what, and the review forms end to end (in Chinese)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from audit.models import AccessEvent
from dossiers.models import Decision, Dossier, DossierReview, DossierState
from dossiers.services import do_compile_dossier, do_pass
from people.roles import Role
from tests.dossiers.helpers import returned_dossier
from tests.factories import login_staff, make_user

pytestmark = pytest.mark.django_db

ENGLISH_WORD = re.compile(r">[^<]*\b[A-Za-z]{4,}\b[^<]*<")


@pytest.fixture
def dossier(released):
    return do_compile_dossier(released)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|svg|template)\b.*?</\1>", "", html, flags=re.S)
    return html


@pytest.mark.parametrize("role", ["officer", "administrator", "counselor"])
def test_file_staff_see_the_list_and_their_file(client, org, dossier, role):
    login_staff(client, getattr(org, role))
    response = client.get(reverse("dossiers_list"))
    assert response.status_code == 200
    assert f'data-testid="file-{dossier.pk}"' in response.content.decode()
    response = client.get(reverse("dossiers_detail", args=[dossier.pk]))
    assert response.status_code == 200
    assert "每月学习记录" in response.content.decode()


@pytest.mark.parametrize("role", ["other_officer", "other_counselor"])
def test_staff_out_of_scope_get_404_and_an_empty_list(client, org, dossier, role):
    login_staff(client, getattr(org, role))
    response = client.get(reverse("dossiers_list"))
    assert f'data-testid="file-{dossier.pk}"' not in response.content.decode()
    assert client.get(reverse("dossiers_detail", args=[dossier.pk])).status_code == 404
    url = reverse("dossiers_download", args=[dossier.pk, "officer"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("role", ["lecturer", "editor", "outsider", "learner"])
def test_everyone_else_is_refused(client, org, dossier, role):
    login_staff(client, getattr(org, role))
    for url in (reverse("dossiers_list"), reverse("dossiers_detail", args=[dossier.pk])):
        response = client.get(url)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert urlsplit(response["Location"]).path in ("/admin/login/", "/admin/")


def test_the_detail_page_is_all_chinese(client, org, dossier):
    login_staff(client, org.officer)
    html = client.get(reverse("dossiers_detail", args=[dossier.pk])).content.decode()
    main = visible_text(html.split('class="nice-padding"', 1)[1])
    main = main.replace(dossier.person.case_number, "")
    words = [m for m in ENGLISH_WORD.findall(main) if "PDF" not in m and "SHA" not in m]
    assert words == []


def test_pass_and_return_through_the_page(client, org, dossier):
    login_staff(client, org.officer)
    url = reverse("dossiers_detail", args=[dossier.pk])
    response = client.post(url, {"action": "pass", "note": "自查无误"}, follow=True)
    assert "本轮" in response.content.decode() or response.status_code == 200
    assert Dossier.objects.get(pk=dossier.pk).round == 2
    head = make_user("east_head", Role.OFFICER, office=org.east)
    login_staff(client, head)
    response = client.post(
        url, {"action": "return", "problem_plan": "方案审批超期", "note": ""}, follow=True
    )
    assert Dossier.objects.get(pk=dossier.pk).state == DossierState.RETURNED
    assert "方案审批超期" in response.content.decode()
    review = DossierReview.objects.get(dossier=dossier, decision=Decision.RETURN)
    assert review.reviewer == head and review.round == 2


def test_a_refusal_is_a_message_in_chinese_and_changes_nothing(client, org, dossier):
    do_pass(dossier, org.officer)
    login_staff(client, org.officer)  # passed round 1; round 2 is the office's
    url = reverse("dossiers_detail", args=[dossier.pk])
    response = client.post(url, {"action": "pass"}, follow=True)
    assert "另一轮" in response.content.decode()
    assert DossierReview.objects.filter(dossier=dossier).count() == 1
    response = client.post(url, {"action": "explode"}, follow=True)
    assert response.status_code == 200
    response = client.post(url, {"action": "resolve", "problem": "x"}, follow=True)
    assert response.status_code == 200


def test_downloading_a_copy_is_logged_and_a_tampered_copy_is_refused(
    client, org, dossier, private_dir
):
    login_staff(client, org.officer)
    url = reverse("dossiers_download", args=[dossier.pk, "officer"])
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("attachment")
    assert AccessEvent.objects.filter(
        object_type="dossiers.dossier", object_id=str(dossier.pk), success=True
    ).exists()
    path = private_dir / dossier.officer_file.name
    path.write_bytes(b"%PDF-1.4 forged")
    response = client.get(url, follow=True)
    assert response.status_code == 200
    assert "SHA-256" in response.content.decode()
    assert b"forged" not in response.content
    login_staff(client, org.counselor)
    assert client.get(url).status_code == 404  # no officer's copy for counselors
    assert (
        client.get(reverse("dossiers_download", args=[dossier.pk, "nonsense"])).status_code == 404
    )


def test_the_review_history_exports_as_csv_and_is_logged(client, org):
    dossier = returned_dossier(org, "缺少方案审批记录")
    url = reverse("dossiers_history_export", args=[dossier.pk])
    login_staff(client, org.officer)
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "缺少方案审批记录" in text and "帮扶方案审批" in text and "已退回" in text
    assert AccessEvent.objects.filter(action="export", object_id=str(dossier.pk)).exists()
    for role in ("counselor", "other_officer"):
        login_staff(client, getattr(org, role))
        assert client.post(url).status_code == 404


# --- The inspection page --------------------------------------------------------------------


def _file(person, state, round_=1, *, catalogue=None):
    from dossiers.models import Catalogue

    return Dossier.objects.create(
        person=person,
        catalogue=catalogue or Catalogue.objects.current(),
        state=state,
        round=round_,
    )


def _problem(dossier, reviewer, section, at):
    from dossiers.models import DossierProblem

    review = DossierReview.objects.create(
        dossier=dossier,
        round=dossier.round,
        round_key="self_check",
        compilation=1,
        reviewer=reviewer,
        decision=Decision.RETURN,
        at=at,
    )
    DossierProblem.objects.create(review=review, dossier=dossier, section=section, text="缺")


def test_the_inspection_page_counts_files_per_office_by_round_problems_and_overdue(client, org):
    import datetime as dt

    from django.utils import timezone

    from tests.factories import make_person

    today = timezone.localdate()
    east_two = make_person(org.east, make_user("east_learner_2", Role.LEARNER))
    east_three = make_person(org.east, make_user("east_learner_3", Role.LEARNER))
    # Released 40 days ago, in round 2: overdue. Released 10 days ago: not yet.
    org.person.supervision_end = today - dt.timedelta(days=40)
    org.person.save(update_fields=["supervision_end"])
    east_two.supervision_end = today - dt.timedelta(days=10)
    east_two.save(update_fields=["supervision_end"])
    east_three.supervision_end = today - dt.timedelta(days=90)
    east_three.save(update_fields=["supervision_end"])
    in_round_two = _file(org.person, DossierState.IN_ROUND, 2)
    returned = _file(east_two, DossierState.RETURNED, 1)
    _file(east_three, DossierState.ARCHIVED, 4)  # archived long after release: not overdue
    west = _file(org.other_person, DossierState.IN_ROUND, 1)
    now = timezone.now()
    _problem(returned, org.officer, "plan", now)
    _problem(in_round_two, org.officer, "plan", now)
    _problem(in_round_two, org.officer, "absences", now)
    _problem(west, org.other_officer, "absences", now)
    _problem(west, org.other_officer, "absences", now)
    # Last quarter's problems do not count.
    _problem(returned, org.officer, "monthly_study", now - dt.timedelta(days=100))

    login_staff(client, org.administrator)
    url = reverse("dossiers_list")
    html = client.get(url).content.decode()
    by_office = html.split('data-testid="by-office"', 1)[1].split("</table>", 1)[0]
    assert "第 1 轮" in by_office and "第 4 轮" in by_office  # a column per round
    # east: compiling 0, round 1 0, round 2 1, round 3 0, round 4 0, returned 1, archived 1
    east_row = by_office.split("东司法所", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td>(\d+)</td>", east_row) == ["0", "0", "1", "0", "0", "1", "1"]
    problems = html.split('data-testid="problems"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<td>([^<]+)</td><td>(\d+)</td>", problems) == [
        ("请假及证明材料", "3"),
        ("帮扶方案审批", "2"),
    ]
    overdue = html.split('data-testid="overdue"', 1)[1].split("</ul>", 1)[0]
    assert org.person.case_number in overdue and west.person.case_number not in overdue
    assert east_two.case_number not in overdue and east_three.case_number not in overdue

    # The east office's own page: its files, its problems only.
    response = client.get(url, {"office": org.east.pk})
    html = response.content.decode()
    assert f'data-testid="file-{west.pk}"' not in html
    assert f'data-testid="file-{in_round_two.pk}"' in html
    problems = html.split('data-testid="problems"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<td>([^<]+)</td><td>(\d+)</td>", problems) == [
        ("帮扶方案审批", "2"),
        ("请假及证明材料", "1"),
    ]
    assert "西司法所" not in html.split('data-testid="by-office"', 1)[1].split("</table>", 1)[0]

    # An office outside the viewer's scope, or none at all: 404.
    login_staff(client, org.officer)
    assert client.get(url, {"office": org.west.pk}).status_code == 404
    assert client.get(url, {"office": "nonsense"}).status_code == 404
    assert client.get(url, {"office": org.east.pk}).status_code == 200


def test_each_problem_shows_the_section_it_is_tied_to(client, org):
    """A returned file's open problems and its history name each problem's section, so the
    officer knows which part of the record to fix."""
    dossier = returned_dossier(org, "方案超期未审批")
    login_staff(client, org.officer)
    html = client.get(reverse("dossiers_detail", args=[dossier.pk])).content.decode()
    block = html.split('data-testid="open-problem"', 1)[1].split("</div>", 1)[0]
    assert "帮扶方案审批" in block and "方案超期未审批" in block
    history = html.split('data-testid="reviews"', 1)[1].split("</table>", 1)[0]
    assert "帮扶方案审批" in history


def test_who_decides_is_said_to_those_who_cannot_act(client, org, dossier):
    """No dead end: a viewer without a form is told who acts next, and why not them."""
    do_pass(dossier, org.officer)
    login_staff(client, org.officer)
    html = client.get(reverse("dossiers_detail", args=[dossier.pk])).content.decode()
    waiting = html.split('data-testid="waiting"', 1)[1].split("</p>", 1)[0]
    assert "本人所属司法所的专管员" in waiting  # round 2: an officer of the office
    assert "同一人不能" in waiting and "。 " not in waiting  # officer1 passed round 1; one text
    Dossier.objects.filter(pk=dossier.pk).update(state=DossierState.COMPILING)
    html = client.get(reverse("dossiers_detail", args=[dossier.pk])).content.decode()
    assert 'data-testid="waiting"' in html
