"""The demo's released persons: one file at every stage, built through the services."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AccessEvent
from dossiers.models import Decision, Dossier, DossierReview, DossierState
from people.models import Person, PersonStatus

pytestmark = pytest.mark.django_db


def test_seed_demo_shows_a_file_at_every_stage(private_dir):
    call_command("seed_demo")
    files = {d.person.case_number: d for d in Dossier.objects.select_related("person")}
    assert {n: (d.state, d.round) for n, d in files.items()} == {
        "SF-2025-0101": (DossierState.ARCHIVED, 4),
        "SF-2025-0102": (DossierState.IN_ROUND, 3),
        "SF-2025-0103": (DossierState.RETURNED, 2),
        "SF-2025-0104": (DossierState.IN_ROUND, 2),
        "SF-2025-0105": (DossierState.IN_ROUND, 1),
    }
    today = timezone.localdate()
    assert list(Dossier.objects.overdue(today).values_list("person__case_number", flat=True)) == [
        "SF-2025-0102"
    ]
    # each round passed by a different person; the copies are real PDFs in private storage
    archived = files["SF-2025-0101"]
    passes = archived.reviews.filter(decision=Decision.PASS).order_by("round")
    assert [r.reviewer.username for r in passes] == ["officer1", "officehead1", "centre1", "admin"]
    assert (private_dir / archived.officer_file.name).read_bytes().startswith(b"%PDF")
    assert AccessEvent.objects.filter(object_id=str(archived.pk), detail__startswith="archived")
    returned = DossierReview.objects.get(decision=Decision.RETURN)
    assert [p.section for p in returned.problems.all()] == ["questionnaires"]
    # released, no sign-in; one released yesterday has no file yet
    released = Person.objects.filter(case_number__startswith="SF-2025-")
    assert set(released.values_list("status", flat=True)) == {PersonStatus.ENDED}
    assert not any(p.user.has_usable_password() for p in released)
    assert released.filter(dossier__isnull=True).count() == 1

    call_command("seed_demo")  # idempotent
    assert DossierReview.objects.count() == 9 and Dossier.objects.count() == 5
