"""One counselor, one time, one appointment: the database holds it even against a write that
bypasses booking (plans/booking.py offers the next free slot)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from plans.models import AppointmentStatus, CounselingAppointment

pytestmark = pytest.mark.django_db

AT = dt.datetime(2027, 1, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def book(person, counselor, status=AppointmentStatus.SCHEDULED):
    return CounselingAppointment.objects.create(
        person=person, counselor=counselor, scheduled_at=AT, status=status
    )


def test_a_counselor_cannot_hold_two_scheduled_appointments_at_one_time(org):
    book(org.person, org.counselor)
    with pytest.raises(IntegrityError), transaction.atomic():
        book(org.other_person, org.counselor)
    assert CounselingAppointment.objects.count() == 1


def test_a_cancelled_appointment_frees_its_time_and_others_keep_their_own(org):
    book(org.person, org.counselor, status=AppointmentStatus.CANCELLED)
    book(org.other_person, org.counselor)
    book(org.person, org.other_counselor)
    assert CounselingAppointment.objects.count() == 3
