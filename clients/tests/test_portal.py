"""The client portal: a client sees and edits only their own account. Alice never sees Bob's
anything — his pages answer 404, exactly like pages that do not exist."""

import pytest
from django.urls import reverse

from clients.models import Client
from clients.tests.factories import EquipmentFactory, LocationFactory, client_of
from staff.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(alice_user):
    client = client_of(alice_user)
    router = EquipmentFactory(
        location=LocationFactory(client=client, label="Alice home", street="1 Alice Way"),
        serial_number="ALICE-ROUTER",
    )
    return client, router


@pytest.fixture
def bob(bob_user):
    client = client_of(bob_user)
    router = EquipmentFactory(
        location=LocationFactory(client=client, label="Bob home", street="2 Bob Road"),
        serial_number="BOB-ROUTER",
    )
    return client, router


def test_alice_sees_her_details_locations_and_equipment(login, alice_user, alice, bob):
    html = login(alice_user).get(reverse("clients_portal:account")).content.decode()
    assert alice[0].account_number in html
    assert "Alice home" in html and "1 Alice Way" in html and "ALICE-ROUTER" in html
    assert "Bob" not in html and "BOB-ROUTER" not in html


def test_portal_home_lists_her_locations_only(login, alice_user, alice, bob):
    html = login(alice_user).get(reverse("portal_home")).content.decode()
    assert "Alice home" in html and "ALICE-ROUTER" in html
    assert "Bob home" not in html and "BOB-ROUTER" not in html


def test_alice_opens_her_own_location_and_router(login, alice_user, alice):
    _, router = alice
    browser = login(alice_user)
    assert (
        browser.get(reverse("clients_portal:location", args=[router.location_id])).status_code
        == 200
    )
    page = browser.get(reverse("clients_portal:equipment", args=[router.pk]))
    assert page.status_code == 200 and "ALICE-ROUTER" in page.content.decode()


def test_alice_never_sees_bobs_location_or_equipment(login, alice_user, alice, bob):
    _, bobs_router = bob
    browser = login(alice_user)
    assert (
        browser.get(reverse("clients_portal:location", args=[bobs_router.location_id])).status_code
        == 404
    )
    assert (
        browser.get(reverse("clients_portal:equipment", args=[bobs_router.pk])).status_code == 404
    )
    # ... answered exactly like ids that do not exist, so nothing is revealed.
    assert browser.get(reverse("clients_portal:location", args=[999999])).status_code == 404


def test_equipment_back_in_stock_is_no_longer_shown_to_its_former_client(login, alice_user, alice):
    _, router = alice
    router.location = None
    router.status = "returned"
    router.save()
    assert (
        login(alice_user).get(reverse("clients_portal:equipment", args=[router.pk])).status_code
        == 404
    )


def test_staff_pages_are_closed_to_clients(login, alice_user, bob):
    bob_client, _ = bob
    browser = login(alice_user)
    assert browser.get(reverse("clients:client_detail", args=[bob_client.pk])).status_code == 403
    assert browser.get(reverse("clients:client_export")).status_code == 403


PORTAL_EDIT = {
    "name": "Alice Martin",
    "company_name": "",
    "email": "alice.home@example.com",
    "phone": "217 555 0199",
    "billing_street": "1 Alice Way",
    "billing_city": "Springfield",
    "billing_postal_code": "62704",
    "consent_email_marketing": "on",
}


def test_alice_edits_her_contact_details_and_consents(login, alice_user, alice):
    response = login(alice_user).post(reverse("clients_portal:account_edit"), PORTAL_EDIT)
    assert response.status_code == 302
    client = Client.objects.get(user=alice_user)
    assert client.email == "alice.home@example.com"
    assert str(client.phone) == "+12175550199"
    assert client.consent_email_marketing and client.consent_email_marketing_at is not None
    assert not client.consent_sms
    alice_user.refresh_from_db()
    assert alice_user.email == "alice@test.example"  # the log-in email is not the contact email


def test_alice_cannot_change_her_status_or_account_number(login, alice_user, alice):
    client, _ = alice
    login(alice_user).post(
        reverse("clients_portal:account_edit"),
        {**PORTAL_EDIT, "status": "cancelled", "account_number": "X-1", "segment": "business"},
    )
    client.refresh_from_db()
    assert (client.status, client.segment) == ("active", "residential")
    assert client.account_number.startswith("T-")


def test_alice_editing_only_changes_her_own_record(login, alice_user, alice, bob):
    bob_client, _ = bob
    before = Client.objects.get(pk=bob_client.pk).email
    login(alice_user).post(reverse("clients_portal:account_edit"), PORTAL_EDIT)
    assert Client.objects.get(pk=bob_client.pk).email == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required"),
        ({"email": "alice@"}, "email", "Enter a valid email address"),
        ({"phone": "12"}, "phone", "Enter a valid phone number"),
    ],
)
def test_portal_form_rejects_bad_input_next_to_the_field(
    login, alice_user, alice, changes, field, message
):
    response = login(alice_user).post(
        reverse("clients_portal:account_edit"), {**PORTAL_EDIT, **changes}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])


def test_a_portal_user_without_a_client_account_is_told_so(login, bob_user):
    page = login(bob_user).get(reverse("clients_portal:account"))
    assert page.status_code == 200
    assert "not linked" in page.content.decode()


def test_alice_adds_a_service_location_of_her_own(login, alice_user, alice, bob):
    client = login(alice_user)
    page = client.get(reverse("clients_portal:location_add"))
    assert page.status_code == 200 and "status" not in page.context["form"].fields
    response = client.post(
        reverse("clients_portal:location_add"),
        {"label": "Cabin", "street": "9 Lake Road", "city": "Petersburg", "postal_code": "62675"},
    )
    assert response.status_code == 302
    location = alice[0].locations.get(label="Cabin")
    assert (location.street, location.status) == ("9 Lake Road", "planned")
    assert not bob[0].locations.filter(label="Cabin").exists()
    assert AuditEntry.objects.filter(action="location.create", actor=alice_user).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"label": ""}, "label", "required"),
        (
            {"street": "1 Alice Way", "city": "Springfield", "postal_code": "62701"},
            "street",
            "already",
        ),
        ({"postal_code": "<script>"}, "postal_code", ""),
    ],
)
def test_portal_location_form_rejects_bad_input(login, alice_user, alice, changes, field, message):
    alice[1].location.__class__.objects.filter(pk=alice[1].location_id).update(
        city="Springfield", postal_code="62701"
    )
    before = alice[0].locations.count()
    data = {"label": "Cabin", "street": "9 Lake Road", "city": "Petersburg", "postal_code": "62675"}
    response = login(alice_user).post(reverse("clients_portal:location_add"), {**data, **changes})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert alice[0].locations.count() == before
