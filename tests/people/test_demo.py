from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from people.demo import RELEASED
from people.models import Office, Person, PersonStatus, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_logins(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "demo-pass-2026" in out
    for name in ("admin", "officer1", "counselor1", "lecturer1", "learner1", "learner30"):
        assert name in out
    assert Person.objects.active().count() == 30
    # and officer1's released cases (people.demo.RELEASED), who never sign in
    released = Person.objects.exclude(status=PersonStatus.ACTIVE).select_related("user")
    assert released.count() == len(RELEASED)
    assert not any(p.user.has_usable_password() for p in released)
    for name in ("officehead1", "centre1"):
        assert name in out
    assert Office.objects.count() == 4
    assert User.objects.filter(username__startswith="learner").count() == 30
    # django-axes needs the request (it locks by username + IP).
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="learner7", password="demo-pass-2026") is not None
    assert authenticate(request, username="officer1", password="demo-pass-2026") is not None


def test_demo_roles_see_what_they_should():
    call_command("seed_demo")
    counselor = User.objects.get(username="counselor1")
    officer = User.objects.get(username="officer1")
    assert Person.objects.visible_to(counselor).count() == 15
    assert Person.objects.active().visible_to(officer).count() == 10
    assert Person.objects.visible_to(User.objects.get(username="lecturer1")).count() == 0
