"""Changing one's own email address (password, then a 24-hour link to the new address, a
notice to the old one) and phone number (password, then a code texted to the new number), and
every account email going through the delivery log, secrets hidden from staff."""

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cms_project.messaging.models import Delivery
from cms_project.messaging.sending import set_opt_out
from cms_project.messaging.testing import smtp_server
from staff.models import AuditEntry
from staff.tests.factories import TEST_PASSWORD, UserFactory
from staff.tests.helpers import CommitClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Requests run their on-commit callbacks, so queued emails are sent (to mail.outbox)."""
    return CommitClient()


def _profile(client, user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "current_password": TEST_PASSWORD,
        **changes,
    }
    return client.post(reverse("accounts:profile"), data)


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/profile/email/confirm/\S+/)", message.body)[1]


# --- Email ---------------------------------------------------------------------------------
def test_a_new_email_address_applies_only_once_its_link_is_confirmed(login, alice_user):
    browser = login(alice_user)
    response = _profile(browser, alice_user, email="alicia@test.example")
    assert (
        "We emailed a link to alicia@test.example"
        in browser.get(response["Location"]).content.decode()
    )
    [confirm] = mail.outbox
    assert confirm.to == ["alicia@test.example"]
    assert confirm.subject == "Confirm your new Data Plus Fiber email address"
    link = _link(confirm)

    page = browser.get(link)  # opening the link changes nothing (mail scanners open links)
    assert "alice@test.example" in page.content.decode()
    alice_user.refresh_from_db()
    assert alice_user.email == "alice@test.example"

    done = browser.post(link)
    assert done["Location"] == reverse("accounts:profile")
    alice_user.refresh_from_db()
    assert alice_user.email == "alicia@test.example"
    notice = mail.outbox[1]
    assert notice.to == ["alice@test.example"]  # the old address is told
    assert "alicia@test.example" in notice.body
    entry = AuditEntry.objects.get(action="account.email_change")
    assert (entry.actor, entry.object_id) == (alice_user, str(alice_user.pk))
    assert entry.changes == {"email": ["alice@test.example", "alicia@test.example"]}


def test_the_link_works_without_being_logged_in_and_then_logs_in_with_the_new_address(
    login, alice_user
):
    _profile(login(alice_user), alice_user, email="alicia@test.example")
    link = _link(mail.outbox[0])
    stranger = CommitClient()
    assert stranger.post(link)["Location"] == reverse("login")
    assert stranger.login(username="alicia@test.example", password=TEST_PASSWORD)


def test_the_link_works_once(login, alice_user):
    browser = login(alice_user)
    _profile(browser, alice_user, email="alicia@test.example")
    link = _link(mail.outbox[0])
    browser.post(link)
    again = browser.post(link)
    assert again.status_code == 400
    assert "expired or has already been used" in again.content.decode()


def test_the_link_expires_after_24_hours(login, alice_user):
    _profile(login(alice_user), alice_user, email="alicia@test.example")
    link = _link(mail.outbox[0])
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=24, minutes=1)):
        response = CommitClient().post(link)
    assert response.status_code == 400
    alice_user.refresh_from_db()
    assert alice_user.email == "alice@test.example"


def test_a_forged_or_altered_link_is_refused(login, alice_user):
    _profile(login(alice_user), alice_user, email="alicia@test.example")
    link = _link(mail.outbox[0])
    tampered = link.replace("/confirm/", "/confirm/x")
    assert CommitClient().post(tampered).status_code == 400
    assert "cannot be used" in CommitClient().get(tampered).content.decode()


def test_an_address_taken_meanwhile_is_refused_at_confirmation(login, alice_user):
    _profile(login(alice_user), alice_user, email="alicia@test.example")
    UserFactory(email="alicia@test.example")
    response = CommitClient().post(_link(mail.outbox[0]))
    assert response.status_code == 400
    assert "Another account uses this address" in response.content.decode()
    alice_user.refresh_from_db()
    assert alice_user.email == "alice@test.example"


def test_changing_the_email_still_needs_the_password(login, alice_user):
    response = _profile(
        login(alice_user), alice_user, email="alicia@test.example", current_password=""
    )
    assert response.status_code == 200
    assert response.context["form"].errors["current_password"]
    assert mail.outbox == []


# --- Phone ---------------------------------------------------------------------------------
def _code(sent_sms) -> str:
    return re.search(r"\b(\d{6})\b", sent_sms[-1]["body"])[1]


def test_a_new_number_applies_once_the_texted_code_is_typed_back(login, alice_user, sent_sms):
    browser = login(alice_user)
    response = _profile(browser, alice_user, phone="(217) 555-0199")
    assert response["Location"] == reverse("accounts:phone_verify")
    assert sent_sms[-1]["to"] == "+12175550199"
    assert sent_sms[-1]["purpose"] == "verification"  # hidden in the delivery log
    alice_user.refresh_from_db()
    assert alice_user.phone == ""  # not yet
    page = browser.get(reverse("accounts:phone_verify")).content.decode()
    assert "+12175550199" in page

    done = browser.post(reverse("accounts:phone_verify"), {"code": _code(sent_sms)})
    assert done["Location"] == reverse("accounts:profile")
    alice_user.refresh_from_db()
    assert (alice_user.phone, alice_user.phone_is_verified) == ("+12175550199", True)
    entry = AuditEntry.objects.get(action="account.phone_change")
    assert (entry.actor, entry.changes) == (alice_user, {"phone": ["", "+12175550199"]})
    assert mail.outbox[-1].to == ["alice@test.example"]  # told by email
    assert "+12175550199" in mail.outbox[-1].body


def test_a_wrong_code_is_answered_next_to_the_field_and_five_end_the_attempt(
    login, alice_user, sent_sms
):
    browser = login(alice_user)
    _profile(browser, alice_user, phone="+12175550199")
    right = _code(sent_sms)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(4):
        response = browser.post(reverse("accounts:phone_verify"), {"code": wrong})
        assert response.status_code == 200
        assert "not right" in " ".join(response.context["form"].errors["code"])
    last = browser.post(reverse("accounts:phone_verify"), {"code": wrong}, follow=True)
    assert "Too many wrong codes" in last.content.decode()
    browser.post(reverse("accounts:phone_verify"), {"code": right})  # too late
    alice_user.refresh_from_db()
    assert alice_user.phone == ""
    assert not AuditEntry.objects.filter(action="account.phone_change").exists()


@pytest.mark.parametrize("typed", ["12345", "abcdef", ""])
def test_a_malformed_code_is_answered_next_to_the_field(login, alice_user, sent_sms, typed):
    browser = login(alice_user)
    _profile(browser, alice_user, phone="+12175550199")
    response = browser.post(reverse("accounts:phone_verify"), {"code": typed})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]


def test_the_code_expires(login, alice_user, sent_sms):
    browser = login(alice_user)
    _profile(browser, alice_user, phone="+12175550199")
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=11)):
        response = browser.post(
            reverse("accounts:phone_verify"), {"code": _code(sent_sms)}, follow=True
        )
    assert response.redirect_chain[-1][0] == reverse("accounts:profile")
    alice_user.refresh_from_db()
    assert alice_user.phone == ""


def test_a_number_that_opted_out_is_refused_next_to_the_field_and_nothing_is_saved(
    login, alice_user, sent_sms
):
    set_opt_out(number="+12175550199", opted_out=True, source="sms:STOP")
    response = _profile(login(alice_user), alice_user, phone="+12175550199", first_name="Ali")
    assert response.status_code == 200
    assert "opted out" in " ".join(response.context["form"].errors["phone"])
    alice_user.refresh_from_db()
    assert (alice_user.first_name, alice_user.phone) == ("Alice", "")  # all or nothing


def test_codes_for_one_account_are_limited_per_hour(login, alice_user, sent_sms):
    browser = login(alice_user)
    for n in range(5):
        _profile(browser, alice_user, phone=f"+1217555010{n}")
    response = _profile(browser, alice_user, phone="+12175550109")
    assert "Too many codes" in " ".join(response.context["form"].errors["phone"])
    assert len(sent_sms) == 5


def test_removing_the_number_needs_only_the_password(login, alice_user):
    alice_user.phone, alice_user.phone_verified_at = "+12175550142", timezone.now()
    alice_user.save()
    _profile(login(alice_user), alice_user, phone="")
    alice_user.refresh_from_db()
    assert (alice_user.phone, alice_user.phone_verified_at) == ("", None)
    assert AuditEntry.objects.get(action="account.phone_change").changes == {
        "phone": ["+12175550142", ""]
    }


def test_the_verify_page_without_a_pending_number_goes_back_to_the_profile(login, alice_user):
    response = login(alice_user).get(reverse("accounts:phone_verify"))
    assert response["Location"] == reverse("accounts:profile")


# --- Account emails through the delivery log ---------------------------------------------
def test_account_emails_are_deliveries_and_their_secrets_are_hidden_from_staff(
    login, alice_user, staff_user, admin_user
):
    CommitClient().post(reverse("password_reset"), {"email": alice_user.email})
    CommitClient().post(
        reverse("signup:signup"),
        {
            "first_name": "Nina",
            "last_name": "Ross",
            "email": "nina@test.example",
            "phone": "",
            "password1": "splice-the-fiber-42",
            "password2": "splice-the-fiber-42",
        },
    )
    CommitClient().post(
        reverse("signup:signup"),
        {
            "first_name": "Alice",
            "last_name": "Again",
            "email": alice_user.email,
            "phone": "",
            "password1": "splice-the-fiber-42",
            "password2": "splice-the-fiber-42",
        },
    )
    login(admin_user).post(reverse("staff:team_password_link", args=[staff_user.pk]))
    _profile(login(alice_user), alice_user, email="alicia@test.example")
    purposes = set(Delivery.objects.values_list("purpose", flat=True))
    assert {
        "password-reset",
        "verification",
        "signup-existing",
        "password-link",
        "email-change",
    } <= purposes
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == Delivery.objects.count()
    assert len(mail.outbox) == Delivery.objects.count()  # every one sent, through the log

    staff = login(staff_user)
    listing = staff.get(reverse("messaging:delivery_list")).content.decode()
    for delivery in Delivery.objects.all():
        secret = re.search(r"https?://\S+", delivery.body)[0]
        assert delivery.is_sensitive, delivery.purpose
        assert secret not in listing
        detail = staff.get(reverse("messaging:delivery_detail", args=[delivery.pk]))
        assert secret not in detail.content.decode()
        assert "Hidden" in detail.content.decode()
    assert "(hidden)" in listing


def test_the_change_notice_is_not_hidden(login, alice_user, staff_user):
    _profile(login(alice_user), alice_user, email="alicia@test.example")
    CommitClient().post(_link(mail.outbox[0]))
    notice = Delivery.objects.get(purpose="security-notice")
    assert not notice.is_sensitive
    page = login(staff_user).get(reverse("messaging:delivery_detail", args=[notice.pk]))
    assert "alicia@test.example" in page.content.decode()


def test_password_reset_and_email_change_arrive_through_real_smtp(
    login, alice_user, django_capture_on_commit_callbacks
):
    with smtp_server() as smtp:
        CommitClient().post(reverse("password_reset"), {"email": alice_user.email})
        _profile(login(alice_user), alice_user, email="alicia@test.example")
    reset, change = smtp.messages
    assert reset.envelope_rcpt_tos == ["alice@test.example"]
    assert "/accounts/password/reset/" in reset.message.get_content()
    assert change.envelope_rcpt_tos == ["alicia@test.example"]
    assert change.message["Subject"] == "Confirm your new Data Plus Fiber email address"
    assert "/accounts/profile/email/confirm/" in change.message.get_content()
    sent = Delivery.objects.order_by("pk")
    assert [d.status for d in sent] == [Delivery.Status.SENT, Delivery.Status.SENT]
    assert [d.provider_id for d in sent] == [
        reset.message["Message-ID"],
        change.message["Message-ID"],
    ]


def test_an_smtp_outage_loses_no_password_reset(alice_user):
    with smtp_server(running=False) as smtp:
        CommitClient().post(reverse("password_reset"), {"email": alice_user.email})
        delivery = Delivery.objects.get(purpose="password-reset")
        assert delivery.status == Delivery.Status.RETRYING
        smtp.start()
        from cms_project.messaging.tasks import deliver

        # The retry is due (as when its back-off has passed).
        Delivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timezone.timedelta(minutes=10)
        )
        deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert smtp.messages[0].envelope_rcpt_tos == ["alice@test.example"]
