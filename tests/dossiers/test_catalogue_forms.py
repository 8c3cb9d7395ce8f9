"""The catalogue edited with forms: a section or a round per form, moved and removed from the
overview, a note on every change, each save a new version, an earlier version made current
again; bad input refused in Chinese with nothing saved; administrators only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dossiers.editing import CatalogueEditError, moved, with_item, without
from dossiers.models import Catalogue
from dossiers.schema import CatalogueDef, default_catalogue
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, org):
    login_staff(client, org.administrator)
    return client


def current() -> CatalogueDef:
    return Catalogue.objects.current().parsed


# --- Pure edits -----------------------------------------------------------------------------


def test_edits_replace_add_move_and_remove_without_touching_the_input():
    data = CatalogueDef.model_validate(default_catalogue()).model_dump(mode="json")
    before = [s["key"] for s in data["sections"]]
    added = with_item(
        data, "sections", None, {"title_zh": "另一", "title_en": "Another", "rule": "plan_approved"}
    )
    assert added["sections"][-1]["key"] == "plan_approved"  # the rule's name is free
    again = with_item(
        added, "sections", None, {"title_zh": "再一", "title_en": "More", "rule": "plan_approved"}
    )
    assert again["sections"][-1]["key"] == "plan_approved_2"
    up = moved(data, "sections", "absences", -1)
    assert [s["key"] for s in up["sections"]][-2:] == ["absences", "plan_reviews"]
    assert moved(data, "sections", before[0], -1)["sections"] == data["sections"]  # at the top
    assert [s["key"] for s in without(data, "rounds", "centre")["rounds"]] == [
        "self_check",
        "office_head",
        "bureau",
    ]
    assert [s["key"] for s in data["sections"]] == before
    one = {**data, "sections": data["sections"][:1]}
    with pytest.raises(CatalogueEditError):
        without(one, "sections", one["sections"][0]["key"])
    with pytest.raises(CatalogueEditError):
        moved(data, "rounds", "nowhere", 1)


# --- Pages ----------------------------------------------------------------------------------


def test_the_overview_shows_the_rules_in_words_and_the_json_read_only(admin_client):
    page = admin_client.get(reverse("dossiers_catalogue")).content.decode()
    assert "入矫后规定天数内审批了帮扶方案" in page and "入矫后 30 天内" in page
    assert "本人的专管员" in page and "随系统提供的默认清单" in page
    assert (
        "plan_approved"
        not in page.split('data-testid="catalogue-json"')[0]
        .split('data-testid="sections"')[1]
        .replace('value="', "")
        .split("<button")[0]
    )
    assert 'data-testid="catalogue-json"' in page and "<textarea" not in page


def test_editing_a_section_saves_a_new_version_with_typed_parameters(admin_client, org):
    url = reverse("dossiers_catalogue_section", args=["plan"])
    form = admin_client.get(url).content.decode()
    assert 'value="30"' in form and "帮扶方案审批" in form
    response = admin_client.post(
        url,
        {
            "title_zh": "帮扶方案按时审批",
            "title_en": "Plan approved in time",
            "rule": "plan_approved",
            "days": "45",
            "grace_days": "3",  # not read by this rule: not stored
            "note": "审批期限改为45日",
        },
        follow=True,
    )
    assert "已保存为第 2 版" in response.content.decode()
    saved = Catalogue.objects.current()
    assert saved.version == 2 and saved.note == "审批期限改为45日"
    assert saved.created_by == org.administrator
    section = saved.parsed.section("plan")
    assert section.title_zh == "帮扶方案按时审批" and section.params == {"days": 45}
    assert Catalogue.objects.get(version=1).parsed.section("plan").params == {"days": 30}


def test_adding_a_section_and_a_round(admin_client):
    admin_client.post(
        reverse("dossiers_catalogue_section_add"),
        {
            "title_zh": "出矫测评",
            "title_en": "Exit questionnaire",
            "rule": "questionnaires_reviewed",
            "reasons": ["exit"],
            "note": "单列出矫测评",
        },
    )
    admin_client.post(
        reverse("dossiers_catalogue_round_add"),
        {
            "title_zh": "档案室复核",
            "title_en": "Archive check",
            "role": "administrator",
            "scope": "bureau",
            "note": "增加档案室复核",
        },
    )
    parsed = current()
    assert Catalogue.objects.current().version == 3
    assert parsed.sections[-1].params == {"reasons": ["exit"]}
    assert parsed.sections[-1].key == "questionnaires_reviewed"
    assert parsed.rounds[-1].title_zh == "档案室复核" and len(parsed.rounds) == 5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"title_zh": "", "title_en": "x", "rule": "plan_approved", "note": "n"},
            "必需字段",
        ),
        (
            {"title_zh": "x", "title_en": "x", "rule": "plan_approved", "note": ""},
            "请简单写明改了什么",
        ),
        ({"title_zh": "x", "title_en": "x", "rule": "made_up", "note": "n"}, "选择一个有效的选项"),
        (
            {"title_zh": "x", "title_en": "x", "rule": "plan_approved", "days": "0", "note": "n"},
            "确保该值大于或等于1",
        ),
        (
            {"title_zh": "x", "title_en": "x", "rule": "questionnaires_reviewed", "note": "n"},
            "请至少选择一项测评",
        ),
    ],
)
def test_bad_section_input_is_refused_in_chinese_and_nothing_saved(admin_client, data, message):
    response = admin_client.post(reverse("dossiers_catalogue_section", args=["plan"]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Catalogue.objects.count() == 1


def test_a_round_of_the_case_officer_must_be_decided_by_an_officer(admin_client):
    response = admin_client.post(
        reverse("dossiers_catalogue_round", args=["self_check"]),
        {
            "title_zh": "自查",
            "title_en": "Self-check",
            "role": "administrator",
            "scope": "case_officer",
            "note": "改",
        },
    )
    assert "只有专管员才能作为本人的专管员审核" in response.content.decode()
    assert Catalogue.objects.count() == 1


def test_saving_the_same_thing_adds_no_version(admin_client):
    section = current().section("plan")
    response = admin_client.post(
        reverse("dossiers_catalogue_section", args=["plan"]),
        {
            "title_zh": section.title_zh,
            "title_en": section.title_en,
            "rule": "plan_approved",
            "days": "30",
            "note": "没改",
        },
        follow=True,
    )
    assert "内容没有变化" in response.content.decode()
    assert Catalogue.objects.count() == 1


def test_moving_and_removing_needs_a_note_and_saves_a_version_each(admin_client):
    url = reverse("dossiers_catalogue")
    response = admin_client.post(url, {"op": "up sections absences"}, follow=True)
    assert "请简单写明改了什么" in response.content.decode()
    assert Catalogue.objects.count() == 1
    admin_client.post(url, {"op": "up sections absences", "note": "请假材料提前"})
    assert [s.key for s in current().sections][-2:] == ["absences", "plan_reviews"]
    admin_client.post(url, {"op": "remove rounds centre", "note": "合并审查"})
    assert [r.key for r in current().rounds] == ["self_check", "office_head", "bureau"]
    assert Catalogue.objects.current().version == 3
    response = admin_client.post(url, {"op": "explode sections plan", "note": "x"}, follow=True)
    assert "未知操作" in response.content.decode()
    assert Catalogue.objects.count() == 3


def test_an_earlier_version_is_made_current_again_as_a_new_version(admin_client):
    url = reverse("dossiers_catalogue")
    admin_client.post(url, {"op": "remove sections absences", "note": "暂不查请假"})
    assert current().section("absences") is None
    restore = reverse("dossiers_catalogue_restore", args=[1])
    admin_client.post(restore, {"note": ""})
    assert Catalogue.objects.count() == 2  # no note, nothing saved
    response = admin_client.post(restore, {"note": "仍要查请假材料"}, follow=True)
    assert "保存为第 3 版" in response.content.decode()
    latest = Catalogue.objects.current()
    assert latest.version == 3 and latest.parsed.section("absences") is not None
    assert "第 1 版" in latest.note and "仍要查请假材料" in latest.note
    assert Catalogue.objects.get(version=2).parsed.section("absences") is None
    assert admin_client.post(reverse("dossiers_catalogue_restore", args=[99])).status_code == 404


def test_an_unknown_section_or_round_is_404(admin_client):
    for name in ("dossiers_catalogue_section", "dossiers_catalogue_round"):
        assert admin_client.get(reverse(name, args=["nowhere"])).status_code == 404


@pytest.mark.parametrize("role", ["officer", "counselor", "lecturer", "editor"])
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("dossiers_catalogue", []),
        ("dossiers_catalogue_section", ["plan"]),
        ("dossiers_catalogue_section_add", []),
        ("dossiers_catalogue_round", ["bureau"]),
        ("dossiers_catalogue_round_add", []),
        ("dossiers_catalogue_restore", [1]),
    ],
)
def test_only_administrators_edit_the_catalogue(client, org, role, name, args):
    login_staff(client, getattr(org, role))
    url = reverse(name, args=args)
    data = {"title_zh": "x", "title_en": "x", "rule": "plan_approved", "note": "n"}
    assert client.post(url, {**data, "op": "remove sections plan"}).status_code in (302, 403)
    if name != "dossiers_catalogue_restore":
        assert client.get(url).status_code in (302, 403)
    assert Catalogue.objects.count() == 1
