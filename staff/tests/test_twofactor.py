"""Two-factor authentication: authenticator app (TOTP), SMS codes, backup codes, the log-in's
second step, the staff policy and the admin reset.

SMS goes through the real `cms_project.messaging.sending.queue_sms`; the `sent_sms` fixture
(root conftest) reads what it queued from the delivery log.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import twofactor
from staff.demo import seed_demo_accounts
from staff.models import AuditEntry, SecurityPolicy, SMSDevice, UserSession
from staff.tests.factories import TEST_PASSWORD
from staff.tests.helpers import (
    code_for,
    code_step,
    give_sms,
    give_totp,
    key_from_secret,
    logged_in_user_id,
    password_step,
)

pytestmark = pytest.mark.django_db

SECRET_RE = re.compile(r"data-totp-secret>([A-Z2-7 ]+)<")


def _sms_code(sent_sms) -> str:
    return re.search(r"\b(\d{6})\b", sent_sms[-1]["body"]).group(1)


# --- Authenticator app: turning it on ------------------------------------------------------
def test_the_setup_page_shows_an_inline_qr_code_and_changes_nothing(login, alice_user):
    client = login(alice_user)
    page = client.get(reverse("accounts:security_totp")).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    assert "http://" not in page.split("<main", 1)[1].split("</main>")[0]
    assert SECRET_RE.search(page)
    assert not TOTPDevice.objects.exists()  # nothing saved until a code proves the app works


def test_the_setup_keeps_the_same_secret_across_reloads(login, alice_user):
    client = login(alice_user)
    first = SECRET_RE.search(client.get(reverse("accounts:security_totp")).content.decode())
    again = SECRET_RE.search(client.get(reverse("accounts:security_totp")).content.decode())
    assert first.group(1) == again.group(1)


def test_totp_is_turned_on_only_after_a_correct_code(login, alice_user):
    client = login(alice_user)
    page = client.get(reverse("accounts:security_totp")).content.decode()
    key = key_from_secret(SECRET_RE.search(page).group(1))

    wrong = client.post(reverse("accounts:security_totp"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "does not match" in wrong.content.decode()
    assert not twofactor.has_second_factor(alice_user)

    right = client.post(reverse("accounts:security_totp"), {"code": code_for(key)})
    assert right.status_code == 200  # the backup codes, shown once
    assert twofactor.has_second_factor(alice_user)
    codes = re.findall(
        r"<li class=\"col py-1\">([a-z2-7]{4}-[a-z2-7]{4})</li>", right.content.decode()
    )
    assert len(codes) == 10
    assert "no-store" in right["Cache-Control"]
    assert AuditEntry.objects.filter(action="2fa.totp_enable", actor=alice_user).exists()


def test_the_code_that_turned_totp_on_cannot_log_in_again(login, client, alice_user):
    logged = login(alice_user)
    key = key_from_secret(
        SECRET_RE.search(logged.get(reverse("accounts:security_totp")).content.decode()).group(1)
    )
    code = code_for(key)
    logged.post(reverse("accounts:security_totp"), {"code": code})
    logged.post(reverse("logout"))
    password_step(client, alice_user)
    response = code_step(client, code)
    assert response.status_code == 200
    assert logged_in_user_id(client) is None


# --- Authenticator app: logging in ---------------------------------------------------------
def test_a_user_with_totp_needs_a_code_after_the_password(client, alice_user):
    device, _ = give_totp(alice_user)
    response = password_step(client, alice_user)
    assert response.status_code == 302
    assert response["Location"] == reverse("login_verify")
    assert logged_in_user_id(client) is None  # the password alone logs nobody in
    assert client.get(reverse("portal_home")).status_code == 302

    response = code_step(client, code_for(device))
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(client) == alice_user.pk
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.note == "password + authenticator app"


def test_the_second_step_rotates_the_session_key(client, alice_user):
    device, _ = give_totp(alice_user)
    password_step(client, alice_user)
    pending_key = client.session.session_key
    code_step(client, code_for(device))
    assert client.session.session_key != pending_key
    assert "_2fa_pending" not in client.session
    assert UserSession.objects.filter(user_id=alice_user.pk).count() == 1


def test_codes_may_be_typed_with_spaces(client, alice_user):
    device, _ = give_totp(alice_user)
    password_step(client, alice_user)
    code = code_for(device)
    code_step(client, f" {code[:3]} {code[3:]} ")
    assert logged_in_user_id(client) == alice_user.pk


def test_totp_allows_one_step_of_clock_drift_but_not_two(client, alice_user):
    device, _ = give_totp(alice_user)
    with time_machine.travel(timezone.now(), tick=False):
        password_step(client, alice_user)
        assert code_step(client, code_for(device, steps=-2)).status_code == 200
        assert logged_in_user_id(client) is None
    with time_machine.travel(timezone.now() + timedelta(seconds=10), tick=False):
        # (django-otp slows down after a wrong code: the next try waits a second)
        code_step(client, code_for(device, steps=-1))
        assert logged_in_user_id(client) == alice_user.pk


def test_a_phone_one_step_ahead_is_accepted(client, alice_user):
    device, _ = give_totp(alice_user)
    password_step(client, alice_user)
    code_step(client, code_for(device, steps=1))
    assert logged_in_user_id(client) == alice_user.pk


def test_a_totp_code_is_single_use(client, alice_user):
    device, _ = give_totp(alice_user)
    with time_machine.travel(timezone.now(), tick=False):
        code = code_for(device)
        password_step(client, alice_user)
        code_step(client, code)
        client.post(reverse("logout"))
        password_step(client, alice_user)
        assert code_step(client, code).status_code == 200
        assert logged_in_user_id(client) is None


def test_a_wrong_code_is_refused_next_to_the_field_and_audited(client, alice_user):
    give_totp(alice_user)
    password_step(client, alice_user)
    response = code_step(client, "123456")
    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert logged_in_user_id(client) is None
    failed = AuditEntry.objects.get(action="auth.login_failed")
    assert "wrong second-factor code" in failed.note
    assert failed.object_id == str(alice_user.pk)


def test_five_wrong_codes_lock_the_login_like_wrong_passwords(client, alice_user):
    device, _ = give_totp(alice_user)
    start = timezone.now()
    password_step(client, alice_user)
    statuses = []
    # Spaced out past django-otp's growing wait (1 s, 2 s, 4 s, 8 s), so each code is checked.
    for seconds in (0, 2, 5, 10, 20):
        with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
            statuses.append(code_step(client, "123456").status_code)
    assert statuses[:4] == [200] * 4
    assert statuses[4] == 429  # the fifth failure reaches the django-axes limit
    # The password is refused now too, even the right one: guessing codes gains nothing.
    locked = password_step(client, alice_user)
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()


def test_a_code_right_after_a_wrong_one_waits_and_is_not_counted(client, alice_user):
    device, _ = give_totp(alice_user)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        password_step(client, alice_user)
        code_step(client, "123456")
        response = code_step(client, code_for(device))
        assert "Wait a few seconds" in response.content.decode()
        assert logged_in_user_id(client) is None
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == 1
    with time_machine.travel(start + timedelta(seconds=2), tick=False):
        code_step(client, code_for(device))
        assert logged_in_user_id(client) == alice_user.pk


def test_the_second_step_expires_after_five_minutes(client, alice_user):
    device, _ = give_totp(alice_user)
    password_step(client, alice_user)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = code_step(client, code_for(device))
        assert response.status_code == 302
        assert response["Location"] == reverse("login")
        assert logged_in_user_id(client) is None


def test_the_verify_page_without_a_password_step_goes_back_to_login(client):
    response = client.get(reverse("login_verify"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")


def test_next_survives_the_second_step_but_only_to_this_site(client, staff_user):
    device, _ = give_totp(staff_user)
    client.post(
        reverse("login"),
        {"username": staff_user.email, "password": TEST_PASSWORD, "next": "/accounts/profile/"},
    )
    assert code_step(client, code_for(device))["Location"] == "/accounts/profile/"
    client.post(reverse("logout"))
    client.post(
        reverse("login"),
        {"username": staff_user.email, "password": TEST_PASSWORD, "next": "https://evil.example/"},
    )
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert code_step(client, code_for(device))["Location"] == "/"


# --- Backup codes --------------------------------------------------------------------------
def test_a_backup_code_logs_in_once(client, alice_user):
    _, codes = give_totp(alice_user)
    password_step(client, alice_user)
    response = code_step(client, twofactor.format_backup_code(codes[0]).upper())
    assert logged_in_user_id(client) == alice_user.pk
    assert StaticToken.objects.filter(device__user=alice_user).count() == 9
    assert "backup code" in AuditEntry.objects.get(action="auth.login").note
    assert response.status_code == 302

    client.post(reverse("logout"))
    password_step(client, alice_user)
    assert code_step(client, codes[0]).status_code == 200
    assert logged_in_user_id(client) is None


def test_new_backup_codes_replace_the_old_ones_and_need_the_password(login, alice_user):
    _, old = give_totp(alice_user)
    client = login(alice_user)
    refused = client.post(reverse("accounts:security_backup_codes"), {"password": "nope"})
    assert refused.status_code == 302
    assert StaticToken.objects.filter(token=old[0]).exists()

    response = client.post(reverse("accounts:security_backup_codes"), {"password": TEST_PASSWORD})
    new = re.findall(
        r'<li class="col py-1">([a-z2-7]{4}-[a-z2-7]{4})</li>', response.content.decode()
    )
    assert len(new) == 10
    assert not StaticToken.objects.filter(token=old[0]).exists()
    assert StaticToken.objects.filter(device__user=alice_user).count() == 10
    assert AuditEntry.objects.filter(action="2fa.backup_codes").exists()


# --- Turning the authenticator app off -----------------------------------------------------
def test_turning_totp_off_asks_for_the_password(login, alice_user):
    give_totp(alice_user)
    client = login(alice_user)
    client.post(reverse("accounts:security_totp_disable"), {"password": "wrong-password"})
    assert twofactor.has_second_factor(alice_user)

    client.post(reverse("accounts:security_totp_disable"), {"password": TEST_PASSWORD})
    assert not twofactor.has_second_factor(alice_user)
    assert not StaticDevice.objects.filter(user=alice_user).exists()  # no codes without 2FA
    assert AuditEntry.objects.filter(action="2fa.totp_disable").exists()


def test_turning_2fa_off_entirely_removes_every_method(login, client, alice_user, sent_sms):
    give_totp(alice_user)
    give_sms(alice_user)
    logged = login(alice_user)
    logged.post(reverse("accounts:security_disable"), {"password": TEST_PASSWORD})
    assert not twofactor.has_second_factor(alice_user)
    logged.post(reverse("logout"))
    password_step(client, alice_user)
    assert logged_in_user_id(client) == alice_user.pk


def test_disable_pages_refuse_get(login, alice_user):
    client = login(alice_user)
    for name in ("security_totp_disable", "security_sms_disable", "security_disable"):
        assert client.get(reverse(f"accounts:{name}")).status_code == 405


# --- SMS codes -----------------------------------------------------------------------------
def test_sms_setup_verifies_the_phone_with_a_code_before_use(login, alice_user, sent_sms):
    client = login(alice_user)
    response = client.post(
        reverse("accounts:security_sms"),
        {"number": "(217) 555-0142", "password": TEST_PASSWORD},
    )
    assert response["Location"] == reverse("accounts:security_sms_verify")
    assert sent_sms[0]["to"] == "+12175550142"
    assert "expires in 10 minutes" in sent_sms[0]["body"]
    assert not twofactor.has_second_factor(alice_user)  # not before the code comes back

    wrong = client.post(reverse("accounts:security_sms_verify"), {"code": "000000"})
    assert "wrong or has expired" in wrong.content.decode()

    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        client.post(reverse("accounts:security_sms_verify"), {"code": _sms_code(sent_sms)})
    assert twofactor.has_second_factor(alice_user)
    alice_user.refresh_from_db()
    assert alice_user.phone == "+12175550142"
    assert alice_user.phone_is_verified
    assert AuditEntry.objects.filter(action="2fa.sms_enable").exists()


def test_sms_setup_needs_the_password_and_sends_nothing_without_it(login, alice_user, sent_sms):
    client = login(alice_user)
    response = client.post(
        reverse("accounts:security_sms"), {"number": "+12175550142", "password": "guess"}
    )
    assert response.status_code == 200
    assert "That is not your password" in response.content.decode()
    assert sent_sms == []


def test_sms_setup_rejects_a_bad_number_next_to_the_field(login, alice_user, sent_sms):
    response = login(alice_user).post(
        reverse("accounts:security_sms"), {"number": "12", "password": TEST_PASSWORD}
    )
    assert "Enter a valid phone number" in response.content.decode()
    assert sent_sms == []


def test_a_user_with_sms_only_gets_a_code_texted_at_login(client, alice_user, sent_sms):
    give_sms(alice_user)
    password_step(client, alice_user)
    assert len(sent_sms) == 1
    assert sent_sms[0]["to"] == "+12175550142"
    code_step(client, _sms_code(sent_sms))
    assert logged_in_user_id(client) == alice_user.pk
    assert AuditEntry.objects.get(action="auth.login").note == "password + SMS code"


def test_an_expired_sms_code_is_refused(login, alice_user, sent_sms):
    client = login(alice_user)
    client.post(
        reverse("accounts:security_sms"), {"number": "+12175550142", "password": TEST_PASSWORD}
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=5)):
        response = client.post(
            reverse("accounts:security_sms_verify"), {"code": _sms_code(sent_sms)}
        )
        assert "wrong or has expired" in response.content.decode()
    assert not twofactor.has_second_factor(alice_user)


@pytest.mark.parametrize(
    ("after", "accepted"),
    [(timedelta(minutes=9, seconds=50), True), (timedelta(minutes=10, seconds=1), False)],
)
def test_an_sms_code_expires_within_ten_minutes(alice_user, sent_sms, after, accepted):
    device = give_sms(alice_user)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        twofactor.send_sms_code(device=device)
    with time_machine.travel(start + after, tick=False):
        verified = twofactor.verify_login_code(user=alice_user, code=_sms_code(sent_sms))
    assert (verified is not None) is accepted


def test_an_sms_code_is_single_use(client, alice_user, sent_sms):
    give_sms(alice_user)
    password_step(client, alice_user)
    code = _sms_code(sent_sms)
    code_step(client, code)
    client.post(reverse("logout"))
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        password_step(client, alice_user)  # texts a new code
        assert code_step(client, code).status_code == 200
        assert logged_in_user_id(client) is None


def test_sms_sending_is_rate_limited(client, alice_user, sent_sms):
    give_sms(alice_user)
    give_totp(alice_user)  # so the log-in does not text on its own
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        password_step(client, alice_user)
        client.post(reverse("login_verify"), {"send_sms": "1"})
        again = client.post(reverse("login_verify"), {"send_sms": "1"}, follow=True)
        assert "You can ask for another in" in again.content.decode()
        assert len(sent_sms) == 1
    # One a minute at most, and five an hour.
    for minute in range(2, 16, 2):
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            device = SMSDevice.objects.get(user=alice_user)
            try:
                twofactor.send_sms_code(device=device)
            except twofactor.SMSNotSent as exc:
                assert "Too many codes" in str(exc)
    assert len(sent_sms) == 5


def test_a_failing_sms_queue_is_a_message_not_an_error(login, alice_user, monkeypatch):
    import sys
    import types

    broken = types.ModuleType("cms_project.messaging.sending")

    def queue_sms(**kwargs):
        raise RuntimeError("provider down")

    broken.queue_sms = queue_sms
    monkeypatch.setitem(sys.modules, "cms_project.messaging.sending", broken)
    response = login(alice_user).post(
        reverse("accounts:security_sms"), {"number": "+12175550142", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert "could not send a text message" in response.content.decode()
    assert not SMSDevice.objects.filter(user=alice_user, token__isnull=False).exists()


def test_turning_sms_off_asks_for_the_password(login, alice_user, sent_sms):
    give_sms(alice_user)
    client = login(alice_user)
    client.post(reverse("accounts:security_sms_disable"), {"password": "wrong"})
    assert SMSDevice.objects.filter(user=alice_user).exists()
    client.post(reverse("accounts:security_sms_disable"), {"password": TEST_PASSWORD})
    assert not SMSDevice.objects.filter(user=alice_user).exists()
    assert AuditEntry.objects.filter(action="2fa.sms_disable").exists()


# --- Policy: 2FA required for staff --------------------------------------------------------
def _require_2fa(admin_user, client_for_admin):
    client_for_admin.post(reverse("staff:security_admin"), {"require_2fa_for_staff": "on"})
    assert SecurityPolicy.current().require_2fa_for_staff


def test_staff_without_2fa_are_sent_to_set_it_up_when_required(
    client, admin_user, staff_user, alice_user, django_user_model
):
    from django.test import Client

    admin_client = Client()
    admin_client.force_login(admin_user)
    _require_2fa(admin_user, admin_client)
    assert AuditEntry.objects.filter(action="security.policy_change").exists()

    password_step(client, staff_user)
    response = client.get(reverse("workspace_home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:security")
    assert client.get(reverse("accounts:security")).status_code == 200

    page = client.get(reverse("accounts:security_totp")).content.decode()
    key = key_from_secret(SECRET_RE.search(page).group(1))
    client.post(reverse("accounts:security_totp"), {"code": code_for(key)})
    assert client.get(reverse("workspace_home")).status_code == 200

    # Clients are not concerned by the staff policy.
    other = Client()
    password_step(other, alice_user)
    assert other.get(reverse("portal_home")).status_code == 200


def test_staff_cannot_turn_off_their_last_factor_when_required(login, admin_user, staff_user):
    from django.test import Client

    admin_client = Client()
    admin_client.force_login(admin_user)
    _require_2fa(admin_user, admin_client)
    give_totp(staff_user)
    client = login(staff_user)
    response = client.post(
        reverse("accounts:security_totp_disable"), {"password": TEST_PASSWORD}, follow=True
    )
    assert "required for staff and admin accounts" in response.content.decode()
    assert twofactor.has_second_factor(staff_user)


def test_only_admins_change_the_policy(login, staff_user):
    client = login(staff_user)
    assert (
        client.post(reverse("staff:security_admin"), {"require_2fa_for_staff": "on"}).status_code
        == 403
    )
    assert not SecurityPolicy.current().require_2fa_for_staff


# --- Admin reset ---------------------------------------------------------------------------
def test_an_admin_resets_a_members_second_factor(login, client, admin_user, staff_user):
    give_totp(staff_user)
    password_step(client, staff_user)
    assert logged_in_user_id(client) is None  # (needs the code)
    UserSession.objects.create(
        session_key="x" * 32,
        session_data="",
        expire_date=timezone.now() + timedelta(hours=1),
        user_id=staff_user.pk,
    )
    response = login(admin_user).post(reverse("staff:user_2fa_reset", args=[staff_user.pk]))
    assert response.status_code == 302
    assert not twofactor.has_second_factor(staff_user)
    assert not StaticDevice.objects.filter(user=staff_user).exists()
    assert not UserSession.objects.filter(user_id=staff_user.pk).exists()
    entry = AuditEntry.objects.get(action="staff.2fa_reset")
    assert entry.actor == admin_user
    assert entry.object_id == str(staff_user.pk)


def test_staff_cannot_reset_anyones_second_factor(login, staff_user, admin_user):
    give_totp(admin_user)
    client = login(staff_user)
    assert client.post(reverse("staff:user_2fa_reset", args=[admin_user.pk])).status_code == 403
    assert twofactor.has_second_factor(admin_user)


def test_the_team_page_shows_who_has_2fa_with_a_reset_button(login, admin_user, staff_user):
    give_totp(staff_user)
    page = login(admin_user).get(reverse("staff:team_list")).content.decode()
    assert 'data-2fa="on"' in page
    assert reverse("staff:user_2fa_reset", args=[staff_user.pk]) in page


# --- Demo ----------------------------------------------------------------------------------
def test_demo_accounts_keep_2fa_off(db):
    for user, _ in seed_demo_accounts():
        assert not twofactor.has_second_factor(user)
    assert not SecurityPolicy.current().require_2fa_for_staff


def test_security_page_works_for_every_role(login, admin_user, staff_user, alice_user):
    for user in (admin_user, staff_user, alice_user):
        response = login(user).get(reverse("accounts:security"))
        assert response.status_code == 200
        assert 'data-2fa="off"' in response.content.decode()
        assert "no-store" in response["Cache-Control"]
