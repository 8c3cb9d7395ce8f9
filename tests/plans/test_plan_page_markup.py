"""The plan page lists each scheduled appointment with its own outcome form: a baseline axe run
found 14 select/input pairs sharing the ids ``id_status``/``id_note`` and without labels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from plans.approval import do_approve_plan
from plans.models import CounselingAppointment
from tests.factories import login_staff
from tests.markup import id_problems
from tests.plans.helpers import drafted

pytestmark = pytest.mark.django_db


def test_each_appointment_row_has_its_own_labelled_fields(client, org):
    plan = drafted(org)
    do_approve_plan(plan, org.counselor)
    appointments = list(
        CounselingAppointment.objects.filter(intervention__goal__plan=plan, status="scheduled")
    )
    if len(appointments) < 2:  # the rules booked one: add a second row to the same plan
        first = appointments[0]
        CounselingAppointment.objects.create(
            person=org.person,
            counselor=org.counselor,
            intervention=first.intervention,
            scheduled_at=timezone.now() + dt.timedelta(days=40),
        )
    login_staff(client, org.counselor)
    html = client.get(reverse("plans_plan_detail", args=[plan.pk])).content.decode()
    assert id_problems(html) == []
    assert html.count('data-testid="appointment-form"') >= 2


def test_a_row_form_still_records_its_appointment(client, org):
    plan = drafted(org)
    do_approve_plan(plan, org.counselor)
    appointment = CounselingAppointment.objects.filter(intervention__goal__plan=plan).first()
    login_staff(client, org.counselor)
    response = client.post(
        reverse("plans_appointment", args=[appointment.pk]),
        {"status": "attended", "note": "came on time"},
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "attended" and appointment.note == "came on time"
