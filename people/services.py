"""People services: scoped lookups and the roster import.

Naming follows the house contract: ``access_*`` fetches and checks permission, ``check_*``
validates without writing, ``do_*`` writes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pandas as pd
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from audit.services import access_logged
from people.models import Caseload, Category, Office, OfficeKind, Person, PersonStatus, User
from people.roles import Role


def access_person_for_user(user, pk: int, request=None) -> Person:
    """The person ``pk`` if ``user`` may see them; otherwise 404 (never reveal existence).

    Both outcomes are written to the access log: a view, or a denial when the person exists
    but lies outside the user's scope."""
    scoped = Person.objects.visible_to(user).select_related("office", "case_officer", "user")
    return access_logged(request, user, scoped, pk, person_field="pk")


# --- Roster import --------------------------------------------------------------------------

# Accepted column headers (Chinese or English) → internal field name.
COLUMN_ALIASES: dict[str, str] = {
    "case_number": "case_number",
    "矫正编号": "case_number",
    "name": "name",
    "姓名": "name",
    "office": "office",
    "司法所": "office",
    "parent_office": "parent_office",
    "上级单位": "parent_office",
    "category": "category",
    "管理类别": "category",
    "supervision_start": "supervision_start",
    "矫正开始": "supervision_start",
    "supervision_end": "supervision_end",
    "矫正结束": "supervision_end",
    "username": "username",
    "用户名": "username",
    "case_officer": "case_officer",
    "矫正工作人员": "case_officer",
    "counselors": "counselors",
    "心理咨询师": "counselors",
    "status": "status",
    "状态": "status",
}
REQUIRED_COLUMNS = (
    "case_number",
    "name",
    "office",
    "category",
    "supervision_start",
    "supervision_end",
)

CATEGORY_ALIASES = {
    "strict": Category.STRICT,
    "严管": Category.STRICT,
    "normal": Category.NORMAL,
    "普管": Category.NORMAL,
    "lenient": Category.LENIENT,
    "宽管": Category.LENIENT,
}
STATUS_ALIASES = {
    "": PersonStatus.ACTIVE,
    "active": PersonStatus.ACTIVE,
    "在矫": PersonStatus.ACTIVE,
    "ended": PersonStatus.ENDED,
    "解矫": PersonStatus.ENDED,
}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")
_USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")


class RosterFileError(ValueError):
    """The file as a whole cannot be read (wrong type, missing columns, empty)."""


@dataclass
class RosterRow:
    line: int
    case_number: str
    name: str
    office: str
    parent_office: str
    category: str
    supervision_start: dt.date
    supervision_end: dt.date
    username: str
    case_officer: str
    counselors: list[str]
    status: str


@dataclass
class RosterReport:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


@dataclass
class ImportSummary:
    persons_created: int = 0
    persons_updated: int = 0
    offices_created: int = 0


def read_roster(source: str | Path | IO[bytes], filename: str | None = None) -> pd.DataFrame:
    """Read an .xlsx or .csv roster into a DataFrame of strings (one row per person)."""
    name = (filename or str(getattr(source, "name", source))).lower()
    try:
        if name.endswith(".xlsx"):
            frame = pd.read_excel(source, dtype=str, engine="openpyxl")
        elif name.endswith(".csv"):
            frame = pd.read_csv(source, dtype=str, encoding="utf-8-sig")
        else:
            raise RosterFileError(_("The roster must be an .xlsx or .csv file."))
    except RosterFileError:
        raise
    except Exception as exc:  # pandas raises many types for unreadable files
        raise RosterFileError(_("The file could not be read: %(error)s") % {"error": exc}) from exc
    frame = frame.rename(columns=lambda c: COLUMN_ALIASES.get(str(c).strip(), str(c).strip()))
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise RosterFileError(_("Missing columns: %(columns)s") % {"columns": ", ".join(missing)})
    if frame.empty:
        raise RosterFileError(_("The file has no rows."))
    return frame.fillna("")


def _parse_date(value: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    value = value.split(" ")[0].split("T")[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


def check_roster(frame: pd.DataFrame) -> RosterReport:
    """Validate every row; nothing is written. Line numbers are spreadsheet lines (header = 1)."""
    report = RosterReport()
    offices = {o.name: o for o in Office.objects.all()}
    offices.update({o.code: o for o in offices.values()})
    new_offices: set[str] = set()
    officer_names = set(
        User.objects.filter(groups__name=Role.OFFICER).values_list("username", flat=True)
    )
    counselor_names = set(
        User.objects.filter(groups__name=Role.COUNSELOR).values_list("username", flat=True)
    )
    existing_by_case = dict(Person.objects.values_list("case_number", "user__username"))
    taken_usernames = set(User.objects.values_list("username", flat=True))
    seen_cases: dict[str, int] = {}
    seen_usernames: dict[str, int] = {}

    for index, record in enumerate(frame.to_dict("records")):
        line = index + 2
        cell = {k: str(v).strip() for k, v in record.items()}
        problems: list[str] = []

        case_number = cell.get("case_number", "")
        if not case_number:
            problems.append(_("missing case number"))
        elif case_number in seen_cases:
            problems.append(
                _("duplicate case number %(case)s (also on line %(line)s)")
                % {"case": case_number, "line": seen_cases[case_number]}
            )
        else:
            seen_cases[case_number] = line

        name = cell.get("name", "")
        if not name:
            problems.append(_("missing name"))

        office = cell.get("office", "")
        parent = cell.get("parent_office", "")
        if not office:
            problems.append(_("missing office"))
        elif office not in offices and office not in new_offices:
            if parent and (parent in offices or parent in new_offices):
                new_offices.add(office)
            else:
                problems.append(_("unknown office %(office)s") % {"office": office})

        category = CATEGORY_ALIASES.get(cell.get("category", "").lower())
        if category is None:
            problems.append(
                _("unknown supervision category %(value)s (use 严管, 普管 or 宽管)")
                % {"value": cell.get("category", "") or "—"}
            )

        start = _parse_date(cell.get("supervision_start", ""))
        end = _parse_date(cell.get("supervision_end", ""))
        if start is None:
            problems.append(_("supervision start is not a date (use 2026-01-31)"))
        if end is None:
            problems.append(_("supervision end is not a date (use 2026-01-31)"))
        if start and end and end < start:
            problems.append(_("supervision end is before its start"))

        status = STATUS_ALIASES.get(cell.get("status", "").lower())
        if status is None:
            problems.append(_("unknown status %(value)s") % {"value": cell["status"]})

        username = cell.get("username", "") or case_number.lower()
        if case_number in existing_by_case:
            username = existing_by_case[case_number]
        elif username:
            if not _USERNAME_RE.match(username):
                problems.append(
                    _("username %(name)s has characters that are not allowed") % {"name": username}
                )
            elif username in taken_usernames:
                problems.append(_("username %(name)s is already taken") % {"name": username})
            elif username in seen_usernames:
                problems.append(
                    _("username %(name)s is used twice (also on line %(line)s)")
                    % {"name": username, "line": seen_usernames[username]}
                )
            else:
                seen_usernames[username] = line

        case_officer = cell.get("case_officer", "")
        if case_officer and case_officer not in officer_names:
            problems.append(_("unknown case officer %(name)s") % {"name": case_officer})

        counselors = [c for c in re.split(r"[;；,、\s]+", cell.get("counselors", "")) if c]
        for counselor in counselors:
            if counselor not in counselor_names:
                problems.append(_("unknown counselor %(name)s") % {"name": counselor})

        if problems:
            report.errors.append((line, "; ".join(problems)))
            continue
        report.rows.append(
            RosterRow(
                line=line,
                case_number=case_number,
                name=name,
                office=office,
                parent_office=parent,
                category=category,
                supervision_start=start,
                supervision_end=end,
                username=username,
                case_officer=case_officer,
                counselors=counselors,
                status=status,
            )
        )
    return report


# What other apps do for persons an import created or moved to another category, inside the
# import's transaction (``learning`` registers its auto-enrollment rules when it loads).
AfterImport = Callable[[QuerySet[Person]], None]
AFTER_IMPORT: list[AfterImport] = []


def register_after_import(fn: AfterImport) -> None:
    if fn not in AFTER_IMPORT:
        AFTER_IMPORT.append(fn)


def do_import_roster(report: RosterReport) -> ImportSummary:
    """Write a validated roster: all rows or none. Refuses a report that has errors."""
    if report.errors:
        raise ValueError("refusing to import a roster with errors")
    summary = ImportSummary()
    new_or_recategorised: list[int] = []
    with transaction.atomic():
        offices = {o.name: o for o in Office.objects.select_for_update()}
        offices.update({o.code: o for o in offices.values()})
        users = {
            u.username: u
            for u in User.objects.filter(
                username__in={r.case_officer for r in report.rows}
                | {c for r in report.rows for c in r.counselors}
            )
        }
        for row in report.rows:
            office = offices.get(row.office)
            if office is None:
                parent = offices[row.parent_office]
                office = parent.add_child(
                    name=row.office, code=_new_office_code(), kind=OfficeKind.OFFICE
                )
                offices[office.name] = office
                offices[office.code] = office
                summary.offices_created += 1
            person = Person.objects.select_for_update().filter(case_number=row.case_number).first()
            officer = users.get(row.case_officer) if row.case_officer else None
            if person is None:
                user = User(username=row.username, name=row.name)
                user.set_unusable_password()
                user.save()
                user.groups.add(_learner_group())
                person = Person.objects.create(
                    user=user,
                    case_number=row.case_number,
                    full_name=row.name,
                    office=office,
                    category=row.category,
                    supervision_start=row.supervision_start,
                    supervision_end=row.supervision_end,
                    status=row.status,
                    case_officer=officer,
                )
                summary.persons_created += 1
                new_or_recategorised.append(person.pk)
            else:
                if person.category != row.category:
                    new_or_recategorised.append(person.pk)
                person.full_name = row.name
                person.office = office
                person.category = row.category
                person.supervision_start = row.supervision_start
                person.supervision_end = row.supervision_end
                person.status = row.status
                if row.case_officer:
                    person.case_officer = officer
                person.save(
                    update_fields=[
                        "full_name",
                        "office",
                        "category",
                        "supervision_start",
                        "supervision_end",
                        "status",
                        "case_officer",
                        "updated_at",
                    ]
                )
                summary.persons_updated += 1
            for username in row.counselors:
                Caseload.objects.get_or_create(person=person, counselor=users[username])
        if new_or_recategorised:
            changed = Person.objects.filter(pk__in=new_or_recategorised)
            for after_import in AFTER_IMPORT:
                after_import(changed)
    return summary


def _learner_group():
    from django.contrib.auth.models import Group

    return Group.objects.get(name=Role.LEARNER)


def _new_office_code() -> str:
    number = Office.objects.count() + 1
    while Office.objects.filter(code=f"office-{number}").exists():
        number += 1
    return f"office-{number}"
