"""The second step's lockout holds against a burst of concurrent wrong codes (issue 22, 4).

Real concurrency: each request runs in its own thread on its own database connection, against
the configured database (a SQLite file in WAL mode, or PostgreSQL with ``DATABASE_URL``).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice

from people import twofactor
from tests.factories import make_org, make_totp_device
from tests.people.test_twofactor import VERIFY, wrong_code

BURST = 30
# The checks are made slow so that, without one lock around "locked out?", "check" and
# "count", every request of the burst would be past the lock test before the fifth failure
# is counted.
CHECK_SECONDS = 0.03


class _Counted:
    """Wraps a code check; counts its calls from every thread."""

    def __init__(self, check):
        self.check = check
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        with self._lock:
            self.calls += 1
        time.sleep(CHECK_SECONDS)
        return self.check(*args, **kwargs)


def _burst(clients: list[Client], token: str) -> list[int]:
    start = threading.Barrier(len(clients))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def post(client: Client) -> None:
        try:
            start.wait()
            statuses.append(client.post(VERIFY, {"token": token}).status_code)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return statuses


@pytest.fixture
def officer_in_burst(concurrent_db, monkeypatch):
    officer = make_org().officer
    device = make_totp_device(officer)
    twofactor.do_generate_recovery_codes(officer)
    totp_checks = _Counted(twofactor.check_totp_token)
    recovery_checks = _Counted(StaticDevice.verify_token)
    monkeypatch.setattr(twofactor, "check_totp_token", totp_checks)
    monkeypatch.setattr(StaticDevice, "verify_token", _method(recovery_checks))
    clients = []
    for _ in range(BURST):
        client = Client()
        client.force_login(officer)
        clients.append(client)
    return officer, device, clients, totp_checks, recovery_checks


def _method(counted: _Counted):
    def verify_token(self, token):
        return counted(self, token)

    return verify_token


def test_a_burst_of_wrong_codes_checks_at_most_the_failure_limit(officer_in_burst):
    officer, device, clients, totp_checks, recovery_checks = officer_in_burst

    statuses = _burst(clients, wrong_code(device))

    assert len(statuses) == BURST
    assert set(statuses) <= {400, 429}, statuses
    assert totp_checks.calls <= twofactor.failure_limit()
    assert recovery_checks.calls <= twofactor.failure_limit()
    device.refresh_from_db()
    assert device.throttling_failure_count == twofactor.failure_limit()
    assert twofactor.is_locked_out(officer)


def test_a_burst_of_wrong_recovery_codes_checks_at_most_the_failure_limit(officer_in_burst):
    officer, device, clients, totp_checks, recovery_checks = officer_in_burst

    statuses = _burst(clients, "notacodenotacode")

    assert set(statuses) <= {400, 429}, statuses
    # a token that is no 6-digit code never reaches the TOTP check, only the recovery codes
    assert recovery_checks.calls <= twofactor.failure_limit()
    assert twofactor.remaining_recovery_codes(officer) == 10
    assert twofactor.is_locked_out(officer)
