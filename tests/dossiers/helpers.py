from __future__ import annotations

from dossiers.models import Catalogue, Dossier


def matrix_dossier(org) -> dict[str, str]:
    """``params`` for the permission matrix: a file of ``org.person``, not compiled yet."""
    dossier, _created = Dossier.objects.get_or_create(
        person=org.person, defaults={"catalogue": Catalogue.objects.current()}
    )
    return {"pk": str(dossier.pk)}
