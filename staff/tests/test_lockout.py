"""Brute-force protection (django-axes): failures are counted per account and per address; at
the limit the log-in is refused for the cool-off period with a clear message; admins unlock."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessFailureLog
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from staff.lockout import current_lockouts
from staff.models import AuditEntry
from staff.tests.factories import TEST_PASSWORD, UserFactory
from staff.tests.helpers import logged_in_user_id, password_step

pytestmark = pytest.mark.django_db

LIMIT = 5


def _fail(client, email, times=1, ip="10.0.0.1"):
    return [
        client.post(
            reverse("login"), {"username": email, "password": "wrong-guess"}, REMOTE_ADDR=ip
        ).status_code
        for _ in range(times)
    ]


def test_the_limit_locks_the_account_with_a_clear_message(client, staff_user):
    statuses = _fail(client, staff_user.email, LIMIT)
    assert statuses == [200] * (LIMIT - 1) + [429]
    response = password_step(client, staff_user, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429  # the right password is refused while locked
    page = response.content.decode()
    assert "Too many failed log-in attempts" in page
    assert "15 minutes" in page
    assert 'name="username"' in page  # the log-in page itself, not a bare error page
    assert logged_in_user_id(client) is None


def test_the_login_works_again_after_the_cooloff(client, staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail(client, staff_user.email, LIMIT)
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert password_step(client, staff_user, REMOTE_ADDR="10.0.0.1").status_code == 429
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        response = password_step(client, staff_user, REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 302
        assert logged_in_user_id(client) == staff_user.pk


def test_attempts_during_the_lockout_do_not_extend_it(client, staff_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail(client, staff_user.email, LIMIT)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        _fail(client, staff_user.email, 3)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert password_step(client, staff_user, REMOTE_ADDR="10.0.0.1").status_code == 302


def test_an_account_is_locked_whatever_address_the_guesses_come_from(client, staff_user):
    for n in range(LIMIT):
        _fail(client, staff_user.email, ip=f"10.0.1.{n}")
    response = password_step(Client(), staff_user, REMOTE_ADDR="192.0.2.77")
    assert response.status_code == 429


def test_an_address_is_locked_whatever_accounts_it_tries(client, staff_user):
    for n in range(LIMIT):
        _fail(client, f"nobody{n}@test.example", ip="10.0.2.1")
    assert password_step(Client(), staff_user, REMOTE_ADDR="10.0.2.1").status_code == 429
    # The same account from elsewhere is fine: it was the address that was guessing.
    assert password_step(Client(), staff_user, REMOTE_ADDR="10.0.2.2").status_code == 302


def test_the_email_case_does_not_dodge_the_count(client, staff_user):
    for variant in ("STAFF@test.example", "Staff@Test.example", "staff@TEST.EXAMPLE"):
        _fail(client, variant, ip="10.0.3.1")
    _fail(client, staff_user.email, 2, ip="10.0.3.2")
    assert password_step(Client(), staff_user, REMOTE_ADDR="10.0.3.3").status_code == 429


def test_an_unknown_address_locks_the_same_way_so_nothing_is_revealed(client):
    statuses = _fail(client, "nobody@test.example", LIMIT)
    assert statuses[-1] == 429


def test_a_success_does_not_reset_the_address_count(client, staff_user, alice_user):
    # Otherwise a guesser could log into their own account between guesses.
    _fail(client, staff_user.email, LIMIT - 1, ip="10.0.4.1")
    assert password_step(Client(), alice_user, REMOTE_ADDR="10.0.4.1").status_code == 302
    assert _fail(client, staff_user.email, 1, ip="10.0.4.1") == [429]


def test_lockouts_and_refused_attempts_are_logged(client, staff_user):
    _fail(client, staff_user.email, LIMIT)
    password_step(client, staff_user, REMOTE_ADDR="10.0.0.1")
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == LIMIT
    lockout = AuditEntry.objects.get(action="auth.lockout")
    assert lockout.object_id == str(staff_user.pk)
    assert lockout.ip_address == "10.0.0.1"
    assert AuditEntry.objects.filter(action="auth.login_blocked").count() == 1
    assert AccessFailureLog.objects.filter(locked_out=True).exists()


def test_admins_see_lockouts_and_unlock_an_account(login, admin_user, staff_user):
    _fail(Client(), staff_user.email, LIMIT)
    assert [lock.value for lock in current_lockouts() if lock.kind == "account"] == [
        staff_user.email
    ]
    admin = login(admin_user)
    page = admin.get(reverse("staff:security_admin")).content.decode()
    assert staff_user.email in page
    response = admin.post(
        reverse("staff:security_unlock"), {"kind": "account", "value": staff_user.email}
    )
    assert response.status_code == 302
    assert password_step(Client(), staff_user, REMOTE_ADDR="192.0.2.9").status_code == 302
    entry = AuditEntry.objects.get(action="staff.unlock")
    assert entry.actor == admin_user
    assert entry.object_id == str(staff_user.pk)


def test_admins_unlock_an_address(login, admin_user, staff_user):
    for n in range(LIMIT):
        _fail(Client(), f"x{n}@test.example", ip="10.0.5.1")
    login(admin_user).post(
        reverse("staff:security_unlock"), {"kind": "address", "value": "10.0.5.1"}
    )
    assert password_step(Client(), staff_user, REMOTE_ADDR="10.0.5.1").status_code == 302


def test_the_team_page_marks_a_locked_member_with_an_unlock_button(login, admin_user, staff_user):
    _fail(Client(), staff_user.email, LIMIT)
    page = login(admin_user).get(reverse("staff:team_list")).content.decode()
    assert "data-locked" in page
    assert reverse("staff:security_unlock") in page


def test_staff_cannot_unlock(login, staff_user):
    other = UserFactory(email="other@test.example", role="staff")
    _fail(Client(), other.email, LIMIT)
    response = login(staff_user).post(
        reverse("staff:security_unlock"), {"kind": "account", "value": other.email}
    )
    assert response.status_code == 403
    assert current_lockouts()


def test_a_password_reset_lifts_the_account_lockout(
    client, alice_user, django_capture_on_commit_callbacks
):
    import re

    from django.core import mail

    _fail(client, alice_user.email, LIMIT)
    with django_capture_on_commit_callbacks(execute=True):  # the queued email is sent
        client.post(reverse("password_reset"), {"email": alice_user.email})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "fresh-start-pass-88", "new_password2": "fresh-start-pass-88"},
    )
    response = password_step(Client(), alice_user, "fresh-start-pass-88", REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="account.password_reset").exists()


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(client, staff_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(LIMIT):
        client.post(
            reverse("login"),
            {"username": f"y{n}@test.example", "password": "wrong"},
            REMOTE_ADDR="10.9.9.9",  # the proxy
            HTTP_X_FORWARDED_FOR=f"6.6.6.6, 203.0.113.{n}",  # a forged first entry is ignored
        )
    # Each client address failed once only: nobody is locked out by the proxy's address.
    response = client.post(
        reverse("login"),
        {"username": staff_user.email, "password": TEST_PASSWORD},
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )
    assert response.status_code == 302
