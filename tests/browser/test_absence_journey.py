"""A person asks for leave on a phone with a photo of a doctor's note; the case officer sees
the photo in the admin and approves; the person sees "已批准"."""

from __future__ import annotations

import pytest

from participation.models import AbsenceRequest, AbsenceStatus, ParticipationRecord
from tests.browser.test_login_journeys import current_code
from tests.browser.test_plan_journey import sign_in
from tests.factories import make_totp_device
from tests.participation.test_absences import (
    evidence_dir,  # noqa: F401 - fixture
    image_bytes,
    stored_files,
    supervised,  # noqa: F401 - fixture
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def ready(org, supervised, evidence_dir, tmp_path, django_db_serialized_rollback):  # noqa: F811
    # DB work must happen before the browser fixture starts (see tests/browser/conftest.py).
    photo = tmp_path / "病假条.png"
    photo.write_bytes(image_bytes())
    return photo, make_totp_device(org.officer)


def test_leave_is_asked_on_a_phone_and_approved_in_the_admin(
    live_server,
    ready,
    evidence_dir,  # noqa: F811
    browser,
):
    photo, device = ready
    base = live_server.url

    phone_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    phone = phone_context.new_page()
    sign_in(phone, base, "learner")
    phone.goto(f"{base}/learning/absences/")
    phone.click("[data-testid=new-absence]")
    phone.wait_for_load_state("networkidle")
    phone.select_option("select[name=requirement]", index=1)
    phone.fill("textarea[name=reason]", "发烧住院，医生让休息三天")
    phone.set_input_files("input[name=evidence]", str(photo))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("[data-testid=send-absence]")
    phone.wait_for_load_state("networkidle")
    absence = AbsenceRequest.objects.get()
    card = f"[data-testid=absence-{absence.pk}]"
    assert phone.is_visible(card)
    assert absence.evidence_type == "image/png" and len(stored_files(evidence_dir)) == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    admin = desk.new_page()
    sign_in(admin, base, "officer")
    admin.goto(f"{base}/admin/absences/")
    admin.fill("input[name=token]", current_code(device))
    admin.click("main button[type=submit]")
    admin.wait_for_load_state("networkidle")
    assert admin.url.endswith("/admin/absences/")
    assert admin.locator("a[href='/admin/absences/']").count() >= 1  # the menu item
    admin.click(f"[data-testid=open-absence-{absence.pk}]")
    admin.wait_for_load_state("networkidle")
    image = admin.locator("[data-testid=evidence-image]")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 8  # served and shown
    admin.check("input[name=decision][value=approve]")
    admin.click("[data-testid=decide]")
    admin.wait_for_load_state("networkidle")
    assert admin.url.endswith("/admin/absences/")
    desk.close()

    absence.refresh_from_db()
    assert absence.status == AbsenceStatus.APPROVED
    assert ParticipationRecord.objects.filter(requirement_key=absence.requirement_key).exists()
    phone.goto(f"{base}/learning/absences/")
    assert "已批准" in phone.inner_text(f"{card} [data-testid=absence-status]")
    phone_context.close()
