"""participation.followup: the daily follow-up driven across several dates (policy 7/3/5 days)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation
from django.utils.translation import gettext

from notifications.models import Channel, Delivery, DeliveryStatus, Notification
from participation.followup import Resolution, Step, do_record_action, run_follow_up
from participation.models import (
    FollowUp,
    FollowUpPolicy,
    FollowUpStage,
    FollowUpStep,
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
    ReminderKind,
    ReminderTemplate,
)
from participation.reminders import (
    DEFAULT_TEXTS,
    check_template,
    reminder_templates,
    render,
    template_errors,
)
from tests.factories import make_person, make_user

MARCH = dt.date(2026, 3, 1)
FEBRUARY = dt.date(2026, 2, 1)
KEY = "quota:2026-03"


def day(n: int, month: int = 3) -> dt.date:
    return dt.date(2026, month, n)


def study(person, period, minutes=480):
    ParticipationRecord.objects.update_or_create(
        person=person,
        source=ParticipationSource.LESSON,
        requirement_key=f"lesson:{period:%Y%m}",
        period=period,
        defaults={"minutes": minutes, "status": ParticipationStatus.COMPLETED},
    )


def excuse(person, period, key):
    ParticipationRecord.objects.create(
        person=person,
        source=ParticipationSource.EXCUSED,
        requirement_key=key,
        period=period,
        status=ParticipationStatus.EXCUSED,
    )


@pytest.fixture
def org_(org, settings):
    """The org with February done by everyone (so only March matters) and the learner
    reachable by text message and email."""
    settings.SMS_BACKEND = "console"
    settings.REMINDER_CHANNELS = ["sms", "email"]
    for person in (org.person, org.other_person):
        study(person, FEBRUARY)
    org.person.phone = "13812345678"
    org.person.save(update_fields=["phone"])
    org.learner.email = "zhangsan@example.cn"
    org.learner.save(update_fields=["email"])
    return org


def reminders(user):
    return Notification.objects.filter(recipient=user, kind="reminder")


def follow_up(org) -> FollowUp:
    return FollowUp.objects.get(person=org.person, period=MARCH, requirement_key=KEY)


def test_nothing_happens_before_the_last_days_of_the_month(org_):
    summary = run_follow_up(day(24))  # 8 days left; the policy waits for 7

    assert summary.opened == 0
    assert not FollowUp.objects.exists()
    assert not reminders(org_.learner).exists()


def test_a_person_at_risk_is_reminded_once_a_day_on_every_channel(org_):
    summary = run_follow_up(day(25))

    row = follow_up(org_)
    assert row.stage == FollowUpStage.REMINDED
    assert row.last_reminded_on == day(25)
    assert summary.opened == 2 and summary.reminded == 2  # learner and other learner
    assert reminders(org_.learner).count() == 1
    sms = Delivery.objects.get(recipient=org_.learner, channel=Channel.SMS)
    email = Delivery.objects.get(recipient=org_.learner, channel=Channel.EMAIL)
    assert sms.status == email.status == DeliveryStatus.SENT
    assert sms.address == "13812345678" and sms.provider_id.startswith("console-")
    assert mail.outbox[0].to == ["zhangsan@example.cn"]
    step = row.steps.get(kind=Step.REMINDED)
    assert step.detail["channels"] == {
        "in_app": reminders(org_.learner).get().pk,
        "sms": sms.pk,
        "email": email.pk,
    }
    assert step.detail["missing"]

    # A second and third run the same day: nothing new anywhere.
    run_follow_up(day(25))
    run_follow_up(day(25))
    assert reminders(org_.learner).count() == 1
    assert Delivery.objects.filter(recipient=org_.learner).count() == 2
    assert row.steps.filter(kind=Step.REMINDED).count() == 1
    assert len(mail.outbox) == 1

    # The next day: reminded again, once.
    run_follow_up(day(26))
    run_follow_up(day(26))
    assert reminders(org_.learner).count() == 2
    assert Delivery.objects.filter(recipient=org_.learner).count() == 4
    assert FollowUp.objects.filter(person=org_.person).count() == 1


def test_a_person_without_phone_or_email_gets_skipped_deliveries(org_):
    run_follow_up(day(25))

    rows = Delivery.objects.filter(recipient=org_.other_learner)
    assert {(d.channel, d.status) for d in rows} == {
        (Channel.SMS, DeliveryStatus.SKIPPED),
        (Channel.EMAIL, DeliveryStatus.SKIPPED),
    }
    assert reminders(org_.other_learner).count() == 1  # the inbox still has it


def test_still_unmet_the_case_officer_gets_a_task_then_the_administrator(org_):
    run_follow_up(day(25))
    run_follow_up(day(27))
    assert follow_up(org_).stage == FollowUpStage.REMINDED  # 2 days: not yet

    run_follow_up(day(28))  # 3 days after the first reminder
    row = follow_up(org_)
    assert row.stage == FollowUpStage.OFFICER
    assert row.officer == org_.officer
    assert row.officer_due == day(2, 4)  # + 5 days
    officer_notes = Notification.objects.filter(recipient=org_.officer)
    assert officer_notes.count() == 1
    assert org_.person.full_name in officer_notes.get().title
    assert not Notification.objects.filter(recipient=org_.other_officer, title__contains="张三")

    run_follow_up(day(28))
    run_follow_up(day(2, 4))  # the due day itself: still the officer's
    assert Notification.objects.filter(recipient=org_.officer).count() == 1
    assert follow_up(org_).stage == FollowUpStage.OFFICER

    run_follow_up(day(3, 4))  # the officer stayed silent
    row = follow_up(org_)
    assert row.stage == FollowUpStage.ADMINISTRATOR
    assert row.escalated_at is not None
    assert Notification.objects.filter(recipient=org_.administrator).count() == 2  # both persons
    run_follow_up(day(3, 4))
    assert Notification.objects.filter(recipient=org_.administrator).count() == 2
    kinds = list(row.steps.values_list("kind", flat=True))
    assert kinds[0] == Step.OPENED
    assert {Step.OFFICER_TASK, Step.ESCALATED, Step.MISSED_REMINDER} <= set(kinds)


def test_the_month_missed_the_person_is_told_once(org_):
    run_follow_up(day(31))
    run_follow_up(day(1, 4))
    run_follow_up(day(1, 4))
    run_follow_up(day(2, 4))

    titles = list(reminders(org_.learner).order_by("pk").values_list("kind", flat=True))
    assert len(titles) == 2  # at risk on the 31st, missed on 1 April; not again on the 2nd
    assert follow_up(org_).steps.filter(kind=Step.MISSED_REMINDER).count() == 1


def test_an_officer_who_acts_in_time_stops_the_escalation(org_):
    run_follow_up(day(25))
    run_follow_up(day(28))
    row = follow_up(org_)

    do_record_action(row, org_.officer, action="called", note="Will study this weekend")
    run_follow_up(day(5, 4))

    row.refresh_from_db()
    assert row.stage == FollowUpStage.OFFICER
    assert row.officer_acted_at is not None
    assert "Will study this weekend" in row.officer_note
    assert not Notification.objects.filter(recipient=org_.administrator, title__contains="张三")
    step = row.steps.get(kind=Step.OFFICER_ACTION)
    assert step.actor == org_.officer and step.detail["action"] == "called"


def test_record_action_refuses_bad_input(org_):
    run_follow_up(day(25))
    row = follow_up(org_)
    with pytest.raises(ValidationError):
        do_record_action(row, org_.officer, action="shouted")
    with pytest.raises(ValidationError):
        do_record_action(row, org_.officer, action="other", note="  ")
    with pytest.raises(ValidationError):
        do_record_action(row, org_.officer, action="called", note="x" * 1001)
    row.refresh_from_db()
    assert row.officer_acted_at is None and not row.steps.filter(kind=Step.OFFICER_ACTION)


def test_met_requirement_is_resolved_and_no_more_reminders(org_):
    run_follow_up(day(25))
    study(org_.person, MARCH)

    summary = run_follow_up(day(26))

    row = follow_up(org_)
    assert row.stage == FollowUpStage.RESOLVED and row.resolution == Resolution.MET
    assert summary.resolved == 1
    assert reminders(org_.learner).count() == 1
    run_follow_up(day(27))
    run_follow_up(day(5, 4))
    assert reminders(org_.learner).count() == 1
    assert row.steps.filter(kind=Step.RESOLVED).count() == 1


def test_excused_requirement_is_resolved_even_with_the_officer(org_):
    run_follow_up(day(25))
    run_follow_up(day(28))
    excuse(org_.person, MARCH, KEY)

    run_follow_up(day(29))

    row = follow_up(org_)
    assert row.stage == FollowUpStage.RESOLVED and row.resolution == Resolution.EXCUSED
    assert reminders(org_.learner).count() == 2  # the 25th and the 28th, not the 29th
    with pytest.raises(ValidationError):
        do_record_action(row, org_.officer, action="called")


def test_missed_previous_month_is_followed_up_right_after_it_ends(org):
    """February was never studied: on 1 March a follow-up opens for it, as missed."""
    run_follow_up(day(1))

    row = FollowUp.objects.get(person=org.person, period=FEBRUARY)
    assert row.requirement_key == "quota:2026-02"
    assert row.steps.filter(kind=Step.MISSED_REMINDER).exists()
    assert not FollowUp.objects.filter(period=MARCH).exists()


def test_without_a_case_officer_the_office_officers_get_the_task(org_):
    colleague = make_user("east_colleague", "officer", office=org_.east)
    orphan = make_person(org_.east)
    study(orphan, FEBRUARY)

    run_follow_up(day(25))
    run_follow_up(day(28))

    row = FollowUp.objects.get(person=orphan, period=MARCH)
    assert row.stage == FollowUpStage.OFFICER and row.officer is None
    for officer in (org_.officer, colleague):
        assert Notification.objects.filter(
            recipient=officer, title__contains=orphan.full_name
        ).exists()


def test_policy_and_texts_are_the_administrators_choice(org_):
    FollowUpPolicy.objects.create(at_risk_days_left=10, officer_after_days=1)
    reminder_templates()
    template = ReminderTemplate.objects.get(kind=ReminderKind.LEARNER_AT_RISK)
    template.title = "Hi {name}: {days_left} days left in {month}"
    template.save()

    run_follow_up(day(22))  # 10 days left
    run_follow_up(day(23))

    assert reminders(org_.learner).first().title.startswith("Hi 张三: 9 days left")
    assert follow_up(org_).stage == FollowUpStage.OFFICER


def test_ended_supervision_resolves(org_):
    run_follow_up(day(25))
    org_.person.status = "ended"
    org_.person.save(update_fields=["status"])

    run_follow_up(day(26))

    assert follow_up(org_).resolution == Resolution.ENDED


def test_step_records_failed_deliveries_without_stopping(org_, settings):
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/"  # nothing listens on the discard port
    settings.SMS_API_KEY = "k"
    settings.SMS_TIMEOUT = 1
    settings.SMS_MAX_ATTEMPTS = 1
    settings.SMS_BACKOFF_SECONDS = 0

    run_follow_up(day(25))

    sms = Delivery.objects.get(recipient=org_.learner, channel=Channel.SMS)
    assert sms.status == DeliveryStatus.FAILED and sms.attempts == 1
    assert "cannot reach the gateway" in sms.last_error
    step = follow_up(org_).steps.get(kind=Step.REMINDED)
    assert step.detail["statuses"]["sms"] == DeliveryStatus.FAILED


# --- Reminder texts -------------------------------------------------------------------------


def test_default_texts_are_created_once_and_are_valid(db):
    templates = reminder_templates()
    reminder_templates()

    assert set(templates) == set(ReminderKind.values)
    assert ReminderTemplate.objects.count() == len(ReminderKind.values)
    for template in templates.values():
        assert template_errors(template.title) == []
        assert template_errors(template.body) == []
        # In the site's language (温馨提示… once the catalogue has the texts).
        with translation.override(settings.LANGUAGE_CODE):
            assert template.body == gettext(DEFAULT_TEXTS[template.kind][1])


@pytest.mark.parametrize(
    "text",
    [
        "Hello {nmae}",
        "{name.__class__}",
        "{0}",
        "{}",
        "{name:>99999}",
        "{name!r}",
        "unclosed {name",
        "stray } brace",
    ],
)
def test_bad_texts_are_refused_with_a_reason(db, english, text):
    errors = template_errors(text)
    assert errors
    with pytest.raises(ValidationError):
        check_template(text)


def test_unknown_placeholder_message_names_it_and_the_allowed_ones(db, english):
    [message] = template_errors("Dear {nmae}, {month}")
    assert "{nmae}" in message and "{name}" in message and "{hours_short}" in message


def test_good_texts_pass(db):
    assert template_errors("{name} {requirement} {days_left} {hours_short} {month} {{x}}") == []


def test_a_broken_stored_text_falls_back_to_the_default(db):
    template = ReminderTemplate(kind=ReminderKind.LEARNER_AT_RISK, title="{oops}", body="{")
    title, body = render(
        template,
        {"name": "A", "requirement": "R", "days_left": "3", "hours_short": "1", "month": "M"},
    )
    assert title and "{" not in title and "A" in body


# --- The command ----------------------------------------------------------------------------


def test_command_runs_for_a_given_day(org_, capsys):
    call_command("run_follow_up", "--date", "2026-03-25")
    call_command("run_follow_up", "--date", "2026-03-25")

    assert "2026-03-25" in capsys.readouterr().out
    assert reminders(org_.learner).count() == 1
    assert FollowUpStep.objects.filter(kind=Step.REMINDED, follow_up__person=org_.person).count()


@pytest.mark.parametrize("value", ["2026-13-01", "tomorrow", "2999-01-01"])
def test_command_refuses_bad_dates(db, value):
    with pytest.raises(CommandError):
        call_command("run_follow_up", "--date", value)


def test_the_officers_note_reads_with_a_chinese_colon_in_chinese(org_):
    run_follow_up(day(25))
    run_follow_up(day(28))
    row = follow_up(org_)
    with translation.override("zh-hans"):
        do_record_action(row, org_.officer, action="called", note="周末补学")
    row.refresh_from_db()
    assert row.officer_note.endswith("已电话联系本人：周末补学"), row.officer_note
