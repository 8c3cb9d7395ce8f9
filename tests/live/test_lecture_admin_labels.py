"""The staff's lecture list speaks Chinese in every column (the speaker column read "Speaker")."""

from __future__ import annotations

import pytest

from tests.factories import login_staff
from tests.live.helpers import make_lecture

pytestmark = pytest.mark.django_db


def test_the_lecture_list_names_the_speaker_column_in_chinese(client, org):
    make_lecture(org, title="东区讲座")
    login_staff(client, org.officer)
    listing = client.get("/admin/lectures/").content.decode()
    assert "东区讲座" in listing
    assert "主讲" in listing and "Speaker" not in listing


def test_the_attendance_policy_list_says_yes_not_true(client, org):
    from live.models import AttendancePolicy

    if not AttendancePolicy.objects.filter(active=True).exists():
        AttendancePolicy.objects.create(version=1, active=True, rules={}, note="初始")
    login_staff(client, org.administrator)
    listing = client.get("/admin/attendance-policies/").content.decode()
    assert "True" not in listing and "<td>是</td>" in listing.replace("\n", "").replace(" ", "")
