"""Staff link or invite a portal login from the client page; the invited person sets a
password and the login (role client) is linked to the client."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from clients.invitations import make_token
from clients.models import Client
from cms_project.messaging.models import Delivery
from staff.models import AuditEntry, Role, User
from staff.tests.factories import UserFactory

from .factories import ClientFactory

pytestmark = pytest.mark.django_db

PASSWORD = "fibre-to-the-home-2026"


def _invite(browser, client: Client, email: str):
    return browser.post(reverse("clients:portal_invite", args=[client.pk]), {"email": email})


def _link_in(delivery: Delivery) -> str:
    return re.search(r"http://testserver(/\S+)", delivery.body).group(1)


@pytest.fixture
def carol():
    return ClientFactory(name="Carol Diaz", email="carol@home.test")


def test_the_client_page_offers_to_link_or_invite_when_there_is_no_login(login, staff_user, carol):
    browser = login(staff_user)
    page = browser.get(reverse("clients:client_detail", args=[carol.pk])).content.decode()
    assert reverse("clients:portal_invite", args=[carol.pk]) in page
    form = browser.get(reverse("clients:portal_invite", args=[carol.pk])).content.decode()
    assert 'value="carol@home.test"' in form  # the contact email, to start from


def test_staff_invite_a_client_who_sets_a_password_and_is_linked(login, staff_user, carol, client):
    response = _invite(login(staff_user), carol, "Carol@Home.test")
    assert response["Location"] == reverse("clients:client_detail", args=[carol.pk])
    delivery = Delivery.objects.get(purpose="portal_invitation")
    assert delivery.to == "carol@home.test" and delivery.related == carol
    assert carol.account_number in delivery.body and "7 days" in delivery.body
    assert AuditEntry.objects.filter(action="client.portal_invite").count() == 1
    carol.refresh_from_db()
    assert carol.user is None  # nothing until accepted

    client.logout()
    link = _link_in(delivery)
    page = client.get(link).content.decode()
    assert "carol@home.test" in page and carol.account_number in page
    response = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert response["Location"] == reverse("login")
    carol.refresh_from_db()
    user = carol.user
    assert (user.email, user.role, user.first_name, user.last_name) == (
        "carol@home.test",
        Role.CLIENT,
        "Carol",
        "Diaz",
    )
    assert user.check_password(PASSWORD)
    assert AuditEntry.objects.filter(action="client.portal_invite_accept").count() == 1
    # The same link again: the client has a login now.
    again = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert "already has a portal login" in again.content.decode()
    assert User.objects.filter(role=Role.CLIENT).count() == 1


def test_an_expired_invitation_is_refused(login, staff_user, carol, client):
    _invite(login(staff_user), carol, "carol@home.test")
    link = _link_in(Delivery.objects.get())
    client.logout()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        page = client.get(link).content.decode()
        assert "This invitation has expired" in page and "password1" not in page
        client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert not User.objects.filter(email="carol@home.test").exists()
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert "password1" in client.get(link).content.decode()  # still good the day before


def test_an_invitation_for_a_client_that_meanwhile_got_a_login_is_refused(
    login, staff_user, carol, client
):
    browser = login(staff_user)
    _invite(browser, carol, "carol@home.test")
    link = _link_in(Delivery.objects.get())
    other = UserFactory(email="carol.work@office.test", role=Role.CLIENT)
    _invite(browser, carol, "carol.work@office.test")  # an existing client login: linked
    carol.refresh_from_db()
    assert carol.user == other
    client.logout()
    page = client.get(link).content.decode()
    assert "already has a portal login" in page and "password1" not in page
    response = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert "already has a portal login" in response.content.decode()
    assert not User.objects.filter(email="carol@home.test").exists()


def test_a_login_linked_meanwhile_between_opening_and_submitting_is_refused(
    staff_user, carol, client
):
    link = reverse("clients_portal:invitation", args=[make_token(client=carol, email="c@h.test")])
    assert "password1" in client.get(link).content.decode()
    Client.objects.filter(pk=carol.pk).update(user=UserFactory(role=Role.CLIENT))
    response = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert "already has a portal login" in response.content.decode()
    assert not User.objects.filter(email="c@h.test").exists()


def test_accepting_rechecks_the_client_under_its_row_lock(carol):
    from clients.invitations import InvitationError, accept_invitation

    token = make_token(client=carol, email="c@h.test")
    Client.objects.filter(pk=carol.pk).update(user=UserFactory(role=Role.CLIENT))
    with pytest.raises(InvitationError, match="already has a portal login"):
        accept_invitation(token=token, password=PASSWORD, request=None)
    assert not User.objects.filter(email="c@h.test").exists()


def test_an_existing_unlinked_client_login_is_linked_at_once(login, staff_user, carol):
    existing = UserFactory(email="carol@home.test", role=Role.CLIENT)
    response = _invite(login(staff_user), carol, "carol@home.test")
    assert response.status_code == 302
    carol.refresh_from_db()
    assert carol.user == existing and not Delivery.objects.exists()
    assert AuditEntry.objects.filter(action="client.portal_link").count() == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda: UserFactory(email="x@home.test", role=Role.STAFF), "belongs to a staff account"),
        (
            lambda: ClientFactory(
                name="Dan Other", user=UserFactory(email="x@home.test", role=Role.CLIENT)
            ),
            "already belongs to Dan Other",
        ),
    ],
)
def test_logins_that_cannot_be_linked_are_refused_next_to_the_field(
    login, staff_user, carol, setup, message
):
    setup()
    response = _invite(login(staff_user), carol, "x@home.test")
    assert response.status_code == 200
    assert message in response.context["form"].errors["email"][0]
    carol.refresh_from_db()
    assert carol.user is None and not Delivery.objects.exists()


def test_a_bad_address_is_answered_next_to_the_field(login, staff_user, carol):
    response = _invite(login(staff_user), carol, "not an address")
    assert "email" in response.context["form"].errors and not Delivery.objects.exists()


def test_a_client_with_a_login_gets_no_invitation(login, staff_user, alice_user):
    alice = ClientFactory(user=alice_user)
    browser = login(staff_user)
    page = browser.get(reverse("clients:portal_invite", args=[alice.pk])).content.decode()
    assert "already logs in as" in page and "Link or send invitation" not in page
    _invite(browser, alice, "new@home.test")
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("password1", "password2", "field"),
    [(PASSWORD, PASSWORD + "x", "password2"), ("12345", "12345", "password1")],
)
def test_passwords_that_differ_or_are_weak_are_refused_next_to_the_field(
    carol, client, password1, password2, field
):
    link = reverse("clients_portal:invitation", args=[make_token(client=carol, email="c@h.test")])
    response = client.post(link, {"password1": password1, "password2": password2})
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not User.objects.filter(email="c@h.test").exists()


def test_a_tampered_link_is_refused(carol, client):
    token = make_token(client=carol, email="c@h.test")
    page = client.get(reverse("clients_portal:invitation", args=[token[:-2] + "xx"]))
    assert "not valid" in page.content.decode()


def test_an_address_taken_by_then_is_refused(carol, client):
    link = reverse("clients_portal:invitation", args=[make_token(client=carol, email="c@h.test")])
    UserFactory(email="C@H.test", role=Role.CLIENT)
    response = client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    assert "already exists" in response.content.decode()
    carol.refresh_from_db()
    assert carol.user is None


def test_clients_cannot_invite(login, alice_user, carol):
    assert _invite(login(alice_user), carol, "x@home.test").status_code == 403
