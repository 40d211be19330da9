"""Client self sign-up: email verification, no account enumeration, one client record."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clients.models import Client as ClientRecord
from cms_project.signup.models import SignupRequest
from staff.models import AuditEntry, Role, User
from staff.tests.helpers import CommitClient as Client
from staff.tests.helpers import logged_in_user_id, password_step

pytestmark = pytest.mark.django_db

FORM = {
    "email": "Nadia@Example.com",
    "first_name": "Nadia",
    "last_name": "Kowalski",
    "phone": "(217) 555-0177",
    "password1": "my-fiber-at-home-24",
    "password2": "my-fiber-at-home-24",
}


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/signup/verify/\S+/)", message.body).group(1)


def test_signing_up_emails_a_link_and_creates_nothing_yet(client):
    response = client.post(reverse("signup:signup"), FORM)
    assert response.status_code == 302
    assert response["Location"] == reverse("signup:sent")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nadia@example.com"]
    assert message.subject == "Confirm your email address for Data Plus Fiber"
    assert "Hello Nadia" in message.body
    assert not User.objects.filter(email="nadia@example.com").exists()
    assert not ClientRecord.objects.exists()
    assert "my-fiber-at-home-24" not in message.body


def test_the_link_creates_a_client_portal_account_and_a_prospect(client):
    client.post(reverse("signup:signup"), FORM)
    link = _link(mail.outbox[0])
    page = client.get(link)
    assert page.status_code == 200
    assert "Nadia Kowalski" in page.content.decode()
    assert not User.objects.exists()  # opening the link (a mail scanner may) creates nothing

    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    user = User.objects.get(email="nadia@example.com")
    assert user.role == Role.CLIENT
    assert user.is_active
    assert user.phone == "+12175550177"
    assert not user.phone_is_verified  # verified only by a code texted to it
    record = ClientRecord.objects.get(user=user)
    assert record.status == ClientRecord.Status.PROSPECT
    assert record.name == "Nadia Kowalski"
    assert record.email == "nadia@example.com"
    assert re.fullmatch(r"C-\d{6}", record.account_number)
    assert not SignupRequest.objects.exists()
    assert AuditEntry.objects.get(action="signup.complete").actor == user

    # They log in with the password they chose, and land in the portal.
    assert password_step(client, user, FORM["password1"])["Location"] == "/"
    assert logged_in_user_id(client) == user.pk


def test_the_link_works_once(client):
    client.post(reverse("signup:signup"), FORM)
    link = _link(mail.outbox[0])
    client.post(link)
    again = client.post(link)
    assert again.status_code == 400
    assert "expired or has already been used" in again.content.decode()
    assert User.objects.count() == 1
    assert ClientRecord.objects.count() == 1


def test_an_expired_link_is_refused(client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post(reverse("signup:signup"), FORM)
    link = _link(mail.outbox[0])
    with time_machine.travel(start + timedelta(hours=48, minutes=1), tick=False):
        assert "expired" in client.get(link).content.decode()
        assert client.post(link).status_code == 400
    assert not User.objects.exists()


def test_a_tampered_link_is_refused(client):
    client.post(reverse("signup:signup"), FORM)
    link = _link(mail.outbox[0])
    forged = link[:-6] + ("A" if link[-6] != "A" else "B") + link[-5:]
    assert client.post(forged).status_code == 400
    assert not User.objects.exists()


def test_an_existing_address_gets_the_same_answer_and_its_owner_an_email(client, alice_user):
    fresh = Client().post(
        reverse("signup:signup"), {**FORM, "email": "new@test.example"}, follow=True
    )
    taken = client.post(
        reverse("signup:signup"), {**FORM, "email": "ALICE@test.example"}, follow=True
    )
    assert taken.redirect_chain == [(reverse("signup:sent"), 302)]
    assert fresh.redirect_chain == taken.redirect_chain
    assert _main(taken) == _main(fresh)  # the visitor cannot tell the two apart

    to_owner = mail.outbox[1]
    assert to_owner.to == ["alice@test.example"]
    assert to_owner.subject == "Someone tried to sign up with your email address"
    assert "/accounts/password/reset/" in to_owner.body
    assert not SignupRequest.objects.filter(email="alice@test.example").exists()
    alice_user.refresh_from_db()
    assert alice_user.check_password("correct-horse-battery-9")  # nothing changed for Alice


def _main(response) -> str:
    return response.content.decode().split("<main", 1)[1].split("</main>")[0]


def test_the_owners_reset_link_works(client, alice_user):
    client.post(reverse("signup:signup"), {**FORM, "email": alice_user.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    form = client.get(link.group(1), follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "owner-takes-back-77", "new_password2": "owner-takes-back-77"},
    )
    assert done.status_code == 302
    alice_user.refresh_from_db()
    assert alice_user.check_password("owner-takes-back-77")


def test_two_pending_sign_ups_of_one_address_make_one_account(client):
    client.post(reverse("signup:signup"), FORM)
    client.post(reverse("signup:signup"), {**FORM, "first_name": "Nadia-B"})
    first, second = (_link(m) for m in mail.outbox)
    client.post(second)
    response = client.post(first)
    assert response.status_code == 400
    assert User.objects.filter(email="nadia@example.com").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"first_name": "Eve\r\nBcc: victim@example.com"}, "first_name", "no line breaks"),
        ({"last_name": "x" * 151}, "last_name", "at most 150 characters"),
        ({"phone": "12"}, "phone", "Enter a valid phone number"),
        ({"password1": "short", "password2": "short"}, "password1", "too short"),
        ({"password1": "password123", "password2": "password123"}, "password1", "too common"),
        ({"password1": "nadiakowalski", "password2": "nadiakowalski"}, "password1", "too similar"),
        (
            {"password1": "8237462384723", "password2": "8237462384723"},
            "password1",
            "entirely numeric",
        ),
        ({"password2": "something-else-99"}, "password2", "do not match"),
    ],
)
def test_bad_input_is_answered_next_to_the_field(client, changes, field, message):
    response = client.post(reverse("signup:signup"), {**FORM, **changes})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert mail.outbox == []
    assert not SignupRequest.objects.exists()


def test_the_form_cannot_flood_a_mailbox(client):
    for _ in range(5):
        response = client.post(reverse("signup:signup"), FORM)
        assert response["Location"] == reverse("signup:sent")
    assert len(mail.outbox) == 3  # three links an hour to one address, then silence


def test_one_network_address_cannot_sign_up_endlessly(client):
    for n in range(10):
        client.post(reverse("signup:signup"), {**FORM, "email": f"n{n}@example.com"})
    response = client.post(reverse("signup:signup"), {**FORM, "email": "n99@example.com"})
    assert response.status_code == 200
    assert "Too many sign-ups from your network" in response.content.decode()


def test_logged_in_users_are_sent_home(login, alice_user):
    assert login(alice_user).get(reverse("signup:signup"))["Location"] == reverse("home")


def test_the_login_page_links_to_sign_up(client):
    assert reverse("signup:signup") in client.get(reverse("login")).content.decode()


def test_email_headers_never_carry_what_the_user_typed(client):
    from staff.mail import header_safe

    assert header_safe("Hello\r\nBcc: evil@example.com") == "Hello Bcc: evil@example.com"
    assert header_safe("a\u2028b\x00c") == "a b c"
    client.post(reverse("signup:signup"), {**FORM, "last_name": "O'Brien <b>"})
    message = mail.outbox[0].message()
    assert message["Subject"] == "Confirm your email address for Data Plus Fiber"
    assert message["To"] == "nadia@example.com"
    assert message["Bcc"] is None
