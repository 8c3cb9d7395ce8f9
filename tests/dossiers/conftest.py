from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from participation.models import MonthStatus, PersonMonth


@pytest.fixture
def private_dir(tmp_path, settings):
    """Files go to a temporary private storage (``lib.storage.private_storage`` reads
    ``STORAGES`` each time it is called)."""
    root = tmp_path / "private"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root, "base_url": None},
        },
    }
    return root


@pytest.fixture
def released(org, private_dir):
    """``org.person``, released yesterday after a year under supervision, every month met."""
    person = org.person
    today = timezone.localdate()
    person.supervision_end = today - dt.timedelta(days=1)
    person.supervision_start = person.supervision_end - dt.timedelta(days=364)
    person.save(update_fields=["supervision_start", "supervision_end"])
    month = person.supervision_start.replace(day=1)
    while month <= person.supervision_end:
        PersonMonth.objects.create(
            person=person,
            period=month,
            office=person.office,
            category=person.category,
            status=MonthStatus.MET,
            study_minutes=500,
            quota_minutes=480,
            computed_at=timezone.now(),
        )
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return person


def files_in(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())
