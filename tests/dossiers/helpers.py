from __future__ import annotations

from dossiers.models import (
    Catalogue,
    Decision,
    Dossier,
    DossierProblem,
    DossierReview,
    DossierState,
)


def matrix_dossier(org) -> dict[str, str]:
    """``params`` for the permission matrix: a file of ``org.person``, not compiled yet."""
    dossier, _created = Dossier.objects.get_or_create(
        person=org.person, defaults={"catalogue": Catalogue.objects.current()}
    )
    return {"pk": str(dossier.pk)}


def returned_dossier(org, text: str) -> Dossier:
    """A file of ``org.person`` returned in round 1 with one problem reading ``text`` (no
    copies compiled: only the history is about to be read)."""
    dossier = Dossier.objects.create(
        person=org.person,
        catalogue=Catalogue.objects.current(),
        state=DossierState.RETURNED,
        round=1,
    )
    review = DossierReview.objects.create(
        dossier=dossier,
        round=1,
        round_key="self_check",
        compilation=0,
        reviewer=org.officer,
        decision=Decision.RETURN,
        note=text,
    )
    DossierProblem.objects.create(review=review, dossier=dossier, section="plan", text=text)
    return dossier
