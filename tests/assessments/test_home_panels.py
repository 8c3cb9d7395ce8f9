"""The admin home's questionnaire panels: the counselor's review queue and the administrator's
escalated alerts; scoped, and at a fixed number of queries."""

from __future__ import annotations

from django.utils import timezone

from assessments.models import Alert
from assessments.panels import PANEL_ROWS, escalated_alert_rows, review_queue_rows
from tests.assessments.helpers import submitted
from tests.factories import make_person

PHQ9_MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]
PHQ9_CRITICAL = [0, 0, 0, 0, 0, 0, 0, 0, 1]


def test_the_review_queue_puts_critical_answers_first(org):
    mild = submitted(org.person, PHQ9_MILD, org.counselor)
    critical = submitted(org.person, PHQ9_CRITICAL, org.counselor)
    submitted(org.other_person, PHQ9_MILD, org.other_counselor)  # not their caseload

    rows, total = review_queue_rows(org.counselor)

    assert [result.pk for result in rows] == [critical.pk, mild.pk] and total == 2
    assert review_queue_rows(org.officer) == ([], 0)


def test_the_review_queue_reads_a_fixed_number_of_queries(org, django_assert_max_num_queries):
    submitted(org.person, PHQ9_MILD, org.counselor)
    with django_assert_max_num_queries(3) as few:
        review_queue_rows(org.counselor)
    for _ in range(PANEL_ROWS + 2):
        person = make_person(org.east, counselors=(org.counselor,))
        submitted(person, PHQ9_MILD, org.counselor)
    with django_assert_max_num_queries(len(few.captured_queries) + 1):  # the count
        rows, total = review_queue_rows(org.counselor)
    assert len(rows) == PANEL_ROWS and total == PANEL_ROWS + 3


def test_administrators_see_escalated_alerts_of_their_bureau_with_the_counselor(org):
    submitted(org.person, PHQ9_CRITICAL, org.counselor)
    submitted(org.other_person, PHQ9_CRITICAL, org.other_counselor)
    Alert.objects.filter(person=org.person).update(escalated_at=timezone.now())

    (alert,) = escalated_alert_rows(org.administrator)

    assert alert.person == org.person
    assert [c.counselor for c in alert.person.caseloads.all()] == [org.counselor]
    assert escalated_alert_rows(org.other_officer) == []  # west: not their person
    Alert.objects.filter(person=org.person).update(acknowledged_at=timezone.now())
    assert escalated_alert_rows(org.administrator) == []


def test_escalated_alerts_read_two_queries(org, django_assert_max_num_queries):
    for _ in range(PANEL_ROWS + 2):
        person = make_person(org.east, counselors=(org.counselor, org.other_counselor))
        submitted(person, PHQ9_CRITICAL, org.counselor)
    Alert.objects.update(escalated_at=timezone.now())
    with django_assert_max_num_queries(3):  # the roles, the alerts, their counselors
        rows = escalated_alert_rows(org.administrator)
        assert len(rows) == PANEL_ROWS
        assert all(len(row.person.caseloads.all()) == 2 for row in rows)
