from __future__ import annotations

import pytest
from pydantic import ValidationError

from dossiers.models import Catalogue
from dossiers.rules import RULES
from dossiers.schema import CatalogueDef, default_catalogue
from dossiers.services import DossierError, do_compile_dossier, do_save_catalogue

pytestmark = pytest.mark.django_db


def test_the_shipped_catalogue_is_version_one_and_valid():
    current = Catalogue.objects.current()
    assert current is not None and current.version == 1
    parsed = current.parsed
    assert [r.key for r in parsed.rounds] == ["self_check", "office_head", "centre", "bureau"]
    assert {s.rule for s in parsed.sections} == set(RULES)
    assert current.definition == default_catalogue()


def test_it_refuses_an_unknown_rule():
    definition = default_catalogue()
    definition["sections"][0]["rule"] = "made_up"
    with pytest.raises(ValidationError, match="unknown rule"):
        CatalogueDef.model_validate(definition)


def test_it_refuses_parameters_the_rule_does_not_take():
    definition = default_catalogue()
    definition["sections"][3]["params"] = {"days": 0}
    with pytest.raises(ValidationError):
        CatalogueDef.model_validate(definition)
    definition["sections"][3]["params"] = {"weeks": 4}
    with pytest.raises(ValidationError):
        CatalogueDef.model_validate(definition)


def test_it_refuses_duplicate_round_keys():
    definition = default_catalogue()
    definition["rounds"][1]["key"] = definition["rounds"][0]["key"]
    with pytest.raises(ValidationError, match="unique"):
        CatalogueDef.model_validate(definition)


def test_saving_makes_a_new_version_and_files_keep_theirs(released, org):
    dossier = do_compile_dossier(released)
    definition = default_catalogue()
    definition["sections"][3]["params"] = {"days": 45}
    saved = do_save_catalogue(definition, by=org.administrator, note="方案审批期限改为45日")
    assert saved.version == 2 and Catalogue.objects.current() == saved
    assert saved.parsed.sections[3].params == {"days": 45}
    assert Catalogue.objects.get(version=1).parsed.sections[3].params == {"days": 30}
    dossier.refresh_from_db()
    assert dossier.catalogue.version == 1


def test_an_invalid_catalogue_is_refused_with_where_and_nothing_saved(org):
    definition = default_catalogue()
    definition["rounds"][0]["role"] = "lecturer"
    with pytest.raises(DossierError, match="rounds.0.role"):
        do_save_catalogue(definition, by=org.administrator, note="改错")
    assert Catalogue.objects.count() == 1
