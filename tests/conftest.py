from __future__ import annotations

import pytest

from tests.factories import Org, make_org


def pytest_terminal_summary(terminalreporter):
    """The permission matrix runs as several tests (tests/security/test_permission_matrix.py);
    add their counts up into its one summary line, also when several xdist workers ran them."""
    cells = mismatches = parts = 0
    for outcome in ("passed", "failed"):
        for report in terminalreporter.getreports(outcome):
            found = dict(getattr(report, "user_properties", ()))
            if report.when == "call" and "permission_matrix_cells" in found:
                parts += 1
                cells += found["permission_matrix_cells"]
                mismatches += found["permission_matrix_mismatches"]
    if parts:
        terminalreporter.write_line(
            f"permission matrix: {cells} cells checked, {mismatches} mismatches ({parts} tests)"
        )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashers cost ~0.3 s per password; tests create dozens of users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """The local-memory cache outlives a test's database rollback; start each test empty."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db) -> Org:
    return make_org()


@pytest.fixture
def learner(org):
    return org.learner


@pytest.fixture
def other_learner(org):
    return org.other_learner


@pytest.fixture
def counselor(org):
    return org.counselor


@pytest.fixture
def lecturer(org):
    return org.lecturer


@pytest.fixture
def officer(org):
    return org.officer


@pytest.fixture
def outsider(org):
    return org.outsider


@pytest.fixture
def english(settings):
    """Serve and translate in English, for tests that assert on the English source strings
    (the site's default language is Chinese; the catalogue translates them)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
