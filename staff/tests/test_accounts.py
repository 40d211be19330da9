"""Log-in, log-out, landing pages, profile and password flows for every role."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from staff.models import UserSession
from staff.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "home"),
    [("admin_user", "/staff/"), ("staff_user", "/staff/"), ("alice_user", "/portal/")],
)
def test_each_role_lands_on_its_own_home_after_login(client, request, persona, home):
    user = request.getfixturevalue(persona)
    response = client.post(
        reverse("login"), {"username": user.email, "password": TEST_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_login_email_is_case_insensitive(client, staff_user):
    response = client.post(
        reverse("login"), {"username": "STAFF@Test.Example", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302


def test_wrong_password_is_refused_with_a_clear_message(client, staff_user):
    response = client.post(reverse("login"), {"username": staff_user.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match an active account" in response.content.decode()


def test_deactivated_user_cannot_log_in(client, staff_user):
    staff_user.is_active = False
    staff_user.save()
    response = client.post(
        reverse("login"), {"username": staff_user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_login_rotates_the_session_key(client, staff_user):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    client.post(reverse("login"), {"username": staff_user.email, "password": TEST_PASSWORD})
    assert client.session.session_key != before


def test_sessions_are_tagged_with_their_user(client, staff_user):
    client.post(reverse("login"), {"username": staff_user.email, "password": TEST_PASSWORD})
    assert UserSession.objects.filter(user_id=staff_user.pk).count() == 1


def test_logout_needs_post_and_ends_the_server_session(login, staff_user):
    client = login(staff_user)
    assert client.get(reverse("logout")).status_code == 405
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not UserSession.objects.filter(session_key=key).exists()
    assert client.get(reverse("workspace_home")).status_code == 302


def test_anonymous_home_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login")


def test_profile_saves_names_and_normalises_the_phone(login, alice_user, sent_sms):
    client = login(alice_user)
    response = client.post(
        reverse("accounts:profile"),
        {
            "first_name": "Alicia",
            "last_name": "Martin",
            "email": alice_user.email,
            "phone": "(217) 555-0142",
            # Changing the phone asks for the password again (see staff/tests/test_profile.py).
            "current_password": TEST_PASSWORD,
        },
    )
    # A new number waits for the code texted to it (staff/tests/test_account_changes.py).
    assert response["Location"] == reverse("accounts:phone_verify")
    alice_user.refresh_from_db()
    assert alice_user.first_name == "Alicia"
    assert sent_sms[-1]["to"] == "+12175550142"  # normalised to E.164


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"first_name": "", "last_name": "M", "phone": ""},
            "first_name",
            "This field is required.",
        ),
        ({"first_name": "A" * 151, "last_name": "M", "phone": ""}, "first_name", "at most 150"),
        (
            {"first_name": "A", "last_name": "M", "phone": "12"},
            "phone",
            "Enter a valid phone number",
        ),
        (
            {"first_name": "A", "last_name": "M", "phone": "call me"},
            "phone",
            "Enter a valid phone number",
        ),
        (
            {"first_name": "A\nBcc: x@evil.example", "last_name": "M", "phone": ""},
            "first_name",
            "no line breaks",
        ),
    ],
)
def test_profile_rejects_bad_input_next_to_the_field(login, alice_user, data, field, message):
    data = {"email": alice_user.email, **data}
    response = login(alice_user).post(reverse("accounts:profile"), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    alice_user.refresh_from_db()
    assert alice_user.first_name == "Alice"


def test_password_change_checks_strength_and_keeps_the_user_logged_in(login, staff_user):
    client = login(staff_user)
    url = reverse("password_change")
    weak = client.post(
        url,
        {"old_password": TEST_PASSWORD, "new_password1": "password", "new_password2": "password"},
    )
    assert "too common" in weak.content.decode()
    good = client.post(
        url,
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a-much-better-pass-77",
            "new_password2": "a-much-better-pass-77",
        },
    )
    assert good.status_code == 302
    staff_user.refresh_from_db()
    assert staff_user.check_password("a-much-better-pass-77")
    assert client.get(reverse("workspace_home")).status_code == 200


def test_password_reset_emails_a_working_link(
    client, alice_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the queued email is sent
        response = client.post(reverse("password_reset"), {"email": alice_user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "brand-new-pass-2026", "new_password2": "brand-new-pass-2026"}
    )
    assert done.status_code == 302
    alice_user.refresh_from_db()
    assert alice_user.check_password("brand-new-pass-2026")


def test_password_reset_answers_the_same_for_unknown_addresses(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@test.example"})
    assert response.status_code == 302
    assert mail.outbox == []
