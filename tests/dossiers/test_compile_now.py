"""立即生成档案: a released person's file compiled on demand from the list or the file's page,
by their case officer or an administrator in scope; never an archived file, never before
release; every compile and refusal in the access log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from dossiers.models import Catalogue, Dossier, DossierState
from dossiers.services import DossierError, do_compile_dossier, do_compile_now
from people.roles import Role
from tests.factories import login_staff, make_user

pytestmark = pytest.mark.django_db


def _url(person) -> str:
    return reverse("dossiers_compile", args=[person.pk])


@pytest.mark.parametrize("role", ["officer", "administrator"])
def test_the_case_officer_and_an_administrator_compile_a_released_persons_file(
    client, org, released, role
):
    login_staff(client, getattr(org, role))
    response = client.get(reverse("dossiers_list"))
    assert f'data-testid="unfiled-{released.pk}"' in response.content.decode()
    assert "立即生成档案" in response.content.decode()
    response = client.post(_url(released), follow=True)
    dossier = Dossier.objects.get(person=released)
    assert dossier.state == DossierState.IN_ROUND and dossier.round == 1
    assert dossier.compilation == 1 and dossier.officer_sha256
    assert dossier.generated_by == getattr(org, role)
    assert response.redirect_chain[-1][0] == reverse("dossiers_detail", args=[dossier.pk])
    assert "已生成" in response.content.decode()
    event = AccessEvent.objects.get(
        object_type="dossiers.dossier", object_id=str(dossier.pk), action=Action.CHANGE
    )
    assert event.success and "compiled on demand" in event.detail
    assert dossier.officer_sha256 in event.detail


def test_a_file_left_compiling_is_compiled_from_its_page(client, org, released):
    Dossier.objects.create(person=released, catalogue=Catalogue.objects.current())
    dossier = Dossier.objects.get(person=released)
    login_staff(client, org.officer)
    page = client.get(reverse("dossiers_detail", args=[dossier.pk])).content.decode()
    assert 'data-testid="compile-form"' in page
    client.post(_url(released))
    dossier.refresh_from_db()
    assert dossier.state == DossierState.IN_ROUND and dossier.compilation == 1
    page = client.get(reverse("dossiers_detail", args=[dossier.pk])).content.decode()
    assert 'data-testid="compile-form"' not in page  # in review: compiled again on resubmit


@pytest.mark.parametrize("role", ["other_officer", "other_counselor"])
def test_staff_who_do_not_see_the_person_get_404(client, org, released, role):
    login_staff(client, getattr(org, role))
    assert client.post(_url(released)).status_code == 404
    assert not Dossier.objects.filter(person=released).exists()


def test_staff_in_scope_who_are_not_the_case_officer_are_told_why_not(client, org, released):
    head = make_user("east_head", Role.OFFICER, office=org.east)
    for user in (org.counselor, head):
        login_staff(client, user)
        response = client.post(_url(released), follow=True)
        assert response.status_code == 200
        assert "只有" in response.content.decode()
        page = client.get(reverse("dossiers_list")).content.decode()
        assert "立即生成档案" not in page
    assert not Dossier.objects.filter(person=released).exists()
    refused = AccessEvent.objects.filter(object_type="people.person", success=False)
    assert refused.count() == 2


def test_a_person_not_released_is_refused(client, org):
    login_staff(client, org.officer)
    response = client.post(_url(org.person), follow=True)
    assert "仍在矫正期内" in response.content.decode()
    assert not Dossier.objects.filter(person=org.person).exists()
    assert AccessEvent.objects.filter(
        object_type="people.person", object_id=str(org.person.pk), success=False
    ).exists()


def test_an_archived_file_is_never_compiled_again(client, org, released):
    dossier = do_compile_dossier(released)
    Dossier.objects.filter(pk=dossier.pk).update(state=DossierState.ARCHIVED)
    login_staff(client, org.administrator)
    response = client.post(_url(released), follow=True)
    assert "已归档" in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.compilation == 1
    with pytest.raises(DossierError):
        do_compile_now(released, org.officer)


def test_get_is_not_allowed(client, org, released):
    login_staff(client, org.officer)
    assert client.get(_url(released)).status_code == 405


@pytest.mark.parametrize("role", ["lecturer", "editor", "learner", "outsider"])
def test_everyone_else_is_refused(client, org, released, role):
    login_staff(client, getattr(org, role))
    assert client.post(_url(released)).status_code in (302, 403)
    assert not Dossier.objects.filter(person=released).exists()
