"""The profile: names freely; email address and phone only with the password again."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from staff.models import AuditEntry
from staff.tests.factories import TEST_PASSWORD
from staff.tests.helpers import CommitClient, give_sms

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return CommitClient()


def _post(client, user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        **changes,
    }
    return client.post(reverse("accounts:profile"), data)


def test_names_change_without_the_password(login, alice_user):
    response = _post(login(alice_user), alice_user, first_name="Alicia")
    assert response.status_code == 302
    alice_user.refresh_from_db()
    assert alice_user.first_name == "Alicia"


@pytest.mark.parametrize("changes", [{"email": "alicia@test.example"}, {"phone": "+12175550100"}])
@pytest.mark.parametrize("password", ["", "not-my-password"])
def test_email_or_phone_changes_need_the_current_password(login, alice_user, changes, password):
    response = _post(login(alice_user), alice_user, current_password=password, **changes)
    assert response.status_code == 200
    assert response.context["form"].errors["current_password"]
    alice_user.refresh_from_db()
    assert alice_user.email == "alice@test.example"
    assert alice_user.phone == ""
    assert not AuditEntry.objects.filter(action__startswith="account.").exists()


def test_changing_the_email_only_sends_a_link_to_the_new_address(login, alice_user):
    # The whole flow (link, confirmation, notice to the old address): test_account_changes.py
    response = _post(
        login(alice_user), alice_user, email="Alicia@Test.example", current_password=TEST_PASSWORD
    )
    assert response.status_code == 302
    alice_user.refresh_from_db()
    assert alice_user.email == "alice@test.example"  # not before the link is confirmed
    assert mail.outbox[0].to == ["alicia@test.example"]
    assert "/accounts/profile/email/confirm/" in mail.outbox[0].body


def test_an_address_in_use_is_refused(login, alice_user, bob_user):
    response = _post(
        login(alice_user), alice_user, email=bob_user.email, current_password=TEST_PASSWORD
    )
    assert "cannot be used" in " ".join(response.context["form"].errors["email"])


def test_a_new_phone_changes_only_when_the_texted_code_comes_back(login, alice_user, sent_sms):
    alice_user.phone = "+12175550142"
    alice_user.phone_verified_at = timezone.now()
    alice_user.save()
    give_sms(alice_user, "+12175550142")
    client = login(alice_user)
    response = _post(client, alice_user, phone="+12175550100", current_password=TEST_PASSWORD)
    assert response["Location"] == reverse("accounts:phone_verify")
    alice_user.refresh_from_db()
    assert (alice_user.phone, alice_user.phone_is_verified) == ("+12175550142", True)
    assert sent_sms[-1]["to"] == "+12175550100"
    # Back to the number already verified for SMS codes: no code needed.
    _post(client, alice_user, phone="+12175550142", current_password=TEST_PASSWORD)
    alice_user.refresh_from_db()
    assert alice_user.phone_is_verified
