"""Education and assistance files (dossiers/wagtail_hooks.py).

Officers, administrators and counselors see the files of the persons they see; lecturers and
editors are refused. The sample file is ``learner``'s (east office), not compiled yet: a copy
download answers "not compiled" (redirect with a message) to those who may read it, 404 to
the others. Per-role and per-action tests: ``tests/dossiers/test_views.py``."""

from __future__ import annotations

from importlib import import_module

from tests.security.matrix import FORBIDDEN, LOGIN, METHOD, NOTFOUND, OK, REDIRECT, Rule, roles

FILE_ROLES = ("counselor", "other_counselor", "officer", "other_officer", "administrator")
IN_SCOPE = ("counselor", "officer", "administrator")


def _dossier(org) -> dict[str, str]:
    return import_module("tests.dossiers.helpers").matrix_dossier(org)


def _download(org) -> dict[str, str]:
    return {**_dossier(org), "copy": "officer"}


def _scoped(in_scope) -> dict:
    spec = roles(non_staff=LOGIN, staff=FORBIDDEN)
    for role in FILE_ROLES:
        spec[role] = in_scope.get(role, NOTFOUND)
    return spec


RULES = [
    Rule(
        name="dossiers_history_export",
        params=_dossier,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_scoped({"officer": OK, "administrator": OK}),
        note="CSV of every decision and problem; for those who read the officer's copy",
    ),
    Rule(
        name="dossiers_archive_export",
        params=_dossier,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_scoped({"officer": REDIRECT, "administrator": REDIRECT}),
        note="zip of an archived file; the sample is not archived: a message, nothing exported",
    ),
    Rule(
        name="dossiers_list",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, **dict.fromkeys(FILE_ROLES, OK)),
        note="files per office by state, problems this quarter, overdue files",
    ),
    Rule(
        name="dossiers_catalogue",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="administrators only; an empty POST is an unknown action and saves nothing",
    ),
    Rule(
        name="dossiers_catalogue_section",
        params=lambda org: {"key": "plan"},
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="one section's form; an empty POST shows the form's errors and saves nothing",
    ),
    Rule(
        name="dossiers_catalogue_section_add",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="a new section's form",
    ),
    Rule(
        name="dossiers_catalogue_round",
        params=lambda org: {"key": "bureau"},
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="one review round's form",
    ),
    Rule(
        name="dossiers_catalogue_round_add",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="a new review round's form",
    ),
    Rule(
        name="dossiers_catalogue_restore",
        params=lambda org: {"version": "1"},
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=REDIRECT),
        note="an earlier version made current again; without a note nothing is saved",
    ),
    Rule(
        name="dossiers_detail",
        params=_dossier,
        get=_scoped(dict.fromkeys(IN_SCOPE, OK)),
        post=_scoped(dict.fromkeys(IN_SCOPE, REDIRECT)),
        note="checklist, history and review forms; an empty POST is an unknown action",
    ),
    Rule(
        name="dossiers_compile",
        params=lambda org: {"person_pk": str(org.person.pk)},
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_scoped(dict.fromkeys(IN_SCOPE, REDIRECT)),
        note="立即生成档案: the sample person is not released, so the case officer and the "
        "administrator are told so (a message, nothing compiled), the counselor that only "
        "they compile; 404 out of scope",
    ),
    Rule(
        name="dossiers_download",
        params=_download,
        get=_scoped({"officer": REDIRECT, "administrator": REDIRECT}),
        post=roles(non_staff=LOGIN, staff=METHOD),
        note="the officer's copy: counselors may not read it (404)",
    ),
]
