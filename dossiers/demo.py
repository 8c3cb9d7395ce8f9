"""The released demo persons' education-and-assistance files, for ``seed_demo``: one at every
stage, built through the services (real copies compiled into private storage, a
``DossierReview`` row per decision, the archive's hashes in the access log).

``people.demo.RELEASED`` creates the persons (officer1's cases, released last month or
earlier; one yesterday, whose file is left for the daily job or 立即生成档案) and
``cms.demo.seed_history`` their months. Rounds: officer1 (self-check) → officehead1 (the
office) → centre1 (the corrections centre) → admin (the bureau). Idempotent: a person who
already has a file is left alone.
"""

from __future__ import annotations

from django.utils import timezone

from dossiers.models import Dossier
from dossiers.services import do_compile_dossier, do_pass, do_return
from participation.rollups import refresh_month
from people.demo import RELEASED, released_case
from people.models import Person, PersonStatus, User

# Why the reviewers pass files whose questionnaire and plan sections are incomplete: those
# persons were taken in before the platform, on paper.
PAPER = "入矫心理测评与帮扶方案为平台启用前纸质办理，纸质材料已随卷归档。"
RETURN_PROBLEM = "缺少解矫心理测评及其复核记录，请补做测评或说明无法补做的原因。"


def _archived(dossier, officer, head, centre, admin):
    do_pass(dossier, officer, "自查完毕。" + PAPER)
    do_pass(dossier, head, "已核对目录清单，同意报送。")
    do_pass(dossier, centre, "材料齐全，同意入库。")
    do_pass(dossier, admin, "终审通过，准予归档。")


def _in_round_three(dossier, officer, head, centre, admin):
    do_pass(dossier, officer, "自查完毕。" + PAPER)
    do_pass(dossier, head, "已核对目录清单，同意报送。")


def _returned(dossier, officer, head, centre, admin):
    do_pass(dossier, officer, "自查完毕。")
    do_return(dossier, head, [("questionnaires", RETURN_PROBLEM)], "请补正后重新提交。")


def _in_round_two(dossier, officer, head, centre, admin):
    do_pass(dossier, officer, "自查完毕。" + PAPER)


def _self_check(dossier, officer, head, centre, admin):
    """Compiled; waits for officer1's self-check."""


# released person's number → what happened to their file (106 has none yet).
STAGES = {
    101: _archived,
    102: _in_round_three,  # released over 30 days ago: overdue
    103: _returned,
    104: _in_round_two,
    105: _self_check,
}


def _release(person: Person) -> bool:
    """Their supervision ended: active during the history (lecture audiences are active
    persons), released now. Whether they were active until now."""
    if person.status == PersonStatus.ENDED:
        return False
    person.status = PersonStatus.ENDED
    person.save(update_fields=["status"])
    return True


def seed_dossiers() -> list[tuple[str, str]]:
    """The released persons' files (see the module docstring). Needs ``seed_people`` and
    ``seed_history`` first; does nothing without the reviewers."""
    users = {u.username: u for u in User.objects.filter(username__in=REVIEWERS)}
    if len(users) < len(REVIEWERS):
        return []
    reviewers = [users[name] for name in REVIEWERS]
    persons = Person.objects.filter(case_number__in=[released_case(n) for n in RELEASED])
    released = [_release(person) for person in persons]  # every one, not the first only
    if any(released):
        # This month's upcoming lecture no longer counts them (its audience: active persons).
        refresh_month(timezone.localdate().replace(day=1))
    for number, stage in STAGES.items():
        person = Person.objects.filter(case_number=released_case(number)).first()
        if person is None or Dossier.objects.filter(person=person).exists():
            continue
        stage(do_compile_dossier(person), *reviewers)
    return []


REVIEWERS = ("officer1", "officehead1", "centre1", "admin")
