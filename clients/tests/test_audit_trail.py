"""The audit trail of the clients app: every change of a client, location or device leaves one
entry with the actor, the object, the values before and after, and the address it came from."""

import pytest
from django.urls import reverse

from clients.models import Client, Equipment, ServiceLocation
from clients.tests.factories import (
    ClientFactory,
    EquipmentFactory,
    InteractionFactory,
    LocationFactory,
)
from staff.audit import action_labels
from staff.models import AuditEntry

pytestmark = pytest.mark.django_db

NEW_CLIENT = {
    "name": "Maria Lopez",
    "company_name": "",
    "segment": "residential",
    "status": "active",
    "email": "maria@example.com",
    "phone": "(217) 555-0134",
    "billing_street": "12 Oak Street",
    "billing_city": "Springfield",
    "billing_postal_code": "62704",
    "signup_date": "2026-01-15",
    "notes": "",
}
NEW_LOCATION = {
    "label": "Home",
    "street": "12 Oak Street",
    "city": "Springfield",
    "postal_code": "62704",
    "status": "active",
    "install_date": "2026-02-01",
    "latitude": "39.781721",
    "longitude": "-89.650148",
}
NEW_ROUTER = {
    "kind": "router",
    "make_model": "Eero Pro 6E",
    "serial_number": "eer-000123",
    "mac_address": "3c-84-6a-1f-00-2b",
    "ownership": "rented",
    "install_date": "",
    "status": "installed",
}
IP = {"REMOTE_ADDR": "198.51.100.7"}


def _only(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def test_adding_a_client_is_recorded_with_its_values(login, staff_user):
    login(staff_user).post(reverse("clients:client_create"), NEW_CLIENT, **IP)
    client = Client.objects.get(name="Maria Lopez")
    entry = _only("client.create")
    assert (entry.actor, entry.object_type, entry.object_id) == (
        staff_user,
        "clients.client",
        str(client.pk),
    )
    assert entry.ip_address == "198.51.100.7"
    assert entry.changes["account_number"] == [None, "C-000001"]
    assert entry.changes["phone"] == [None, "+12175550134"]
    assert entry.changes["status"] == [None, "active"]
    assert "company_name" not in entry.changes  # blank values are left out


def test_editing_a_client_records_only_what_changed(login, staff_user):
    client = ClientFactory(name="Maria Lopez", email="maria@example.com", status="active")
    data = {**NEW_CLIENT, "name": "Maria López", "status": "suspended"}
    data["email"], data["phone"] = client.email, str(client.phone)
    data["billing_street"] = client.billing_street
    data["signup_date"] = client.signup_date.isoformat()
    login(staff_user).post(reverse("clients:client_edit", args=[client.pk]), data)
    entry = _only("client.update")
    assert entry.actor == staff_user
    assert entry.changes == {
        "name": ["Maria Lopez", "Maria López"],
        "status": ["active", "suspended"],
    }


def test_saving_a_client_unchanged_records_nothing(login, staff_user):
    login(staff_user).post(reverse("clients:client_create"), NEW_CLIENT)
    client = Client.objects.get()
    login(staff_user).post(reverse("clients:client_edit", args=[client.pk]), NEW_CLIENT)
    assert not AuditEntry.objects.filter(action="client.update").exists()


def test_a_client_editing_their_own_details_in_the_portal_is_recorded(login, alice_user):
    client = ClientFactory(user=alice_user, email="alice@test.example", consent_sms=False)
    login(alice_user).post(
        reverse("clients_portal:account_edit"),
        {
            "name": client.name,
            "email": client.email,
            "phone": str(client.phone),
            "billing_street": client.billing_street,
            "billing_city": "Chicago",
            "billing_postal_code": client.billing_postal_code,
            "consent_sms": "on",
        },
    )
    entry = _only("client.update")
    assert entry.actor == alice_user
    assert entry.changes["billing_city"] == ["Springfield", "Chicago"]
    assert entry.changes["consent_sms"] == [False, True]


def test_deleting_a_client_records_what_it_held(login, admin_user):
    client = ClientFactory(name="Gone Soon")
    EquipmentFactory(location=LocationFactory(client=client))
    pk = client.pk
    login(admin_user).post(reverse("clients:client_delete", args=[pk]))
    entry = _only("client.delete")
    assert (entry.actor, entry.object_id) == (admin_user, str(pk))
    assert entry.changes["name"] == ["Gone Soon", None]
    assert entry.note == "1 device(s) returned to stock"
    assert "Gone Soon" in entry.object_repr


def test_cancelling_instead_of_deleting_is_recorded_as_a_cancellation(
    login, admin_user, monkeypatch
):
    # As in test_client_pages: interactions stand in for invoices.
    monkeypatch.setattr("clients.accounts.FINANCIAL_RELATIONS", ("interactions",))
    client = ClientFactory(status="active")
    InteractionFactory(client=client)
    login(admin_user).post(reverse("clients:client_delete", args=[client.pk]))
    entry = _only("client.cancel")
    assert entry.actor == admin_user
    assert entry.changes == {"status": ["active", "cancelled"]}
    assert not AuditEntry.objects.filter(action="client.delete").exists()


def test_locations_are_recorded_when_added_and_edited(login, staff_user):
    client = ClientFactory()
    browser = login(staff_user)
    browser.post(reverse("clients:location_create", args=[client.pk]), NEW_LOCATION)
    location = ServiceLocation.objects.get()
    created = _only("location.create")
    assert (created.actor, created.object_id) == (staff_user, str(location.pk))
    assert created.changes["street"] == [None, "12 Oak Street"]
    assert created.changes["latitude"] == [None, "39.781721"]
    assert created.changes["client"] == [None, f"{client} (#{client.pk})"]
    browser.post(
        reverse("clients:location_edit", args=[location.pk]), {**NEW_LOCATION, "label": "Cabin"}
    )
    assert _only("location.update").changes == {"label": ["Home", "Cabin"]}


def test_equipment_is_recorded_when_added_edited_and_moved(login, staff_user):
    client = ClientFactory()
    home, cabin = LocationFactory(client=client), LocationFactory(client=client, label="Cabin")
    browser = login(staff_user)
    browser.post(reverse("clients:equipment_create", args=[home.pk]), NEW_ROUTER)
    router = Equipment.objects.get()
    created = _only("equipment.create")
    assert (created.actor, created.object_type, created.object_id) == (
        staff_user,
        "clients.equipment",
        str(router.pk),
    )
    assert created.changes["serial_number"] == [None, "EER-000123"]
    assert created.changes["location"] == [None, f"{home} (#{home.pk})"]

    browser.post(
        reverse("clients:equipment_edit", args=[router.pk]),
        {**NEW_ROUTER, "make_model": "Eero Max 7", "install_date": str(router.install_date)},
    )
    assert _only("equipment.update").changes == {"make_model": ["Eero Pro 6E", "Eero Max 7"]}

    browser.post(
        reverse("clients:equipment_move", args=[router.pk]),
        {"destination": cabin.pk, "status": "installed", "note": "Moved to the cabin"},
    )
    move = _only("equipment.move")
    assert move.changes["location"] == [f"{home} (#{home.pk})", f"{cabin} (#{cabin.pk})"]
    assert move.note == "Moved to the cabin"


def test_installing_from_stock_is_a_recorded_move(login, staff_user):
    location = LocationFactory()
    device = EquipmentFactory(location=None, status="in_stock", serial_number="ONT-1")
    login(staff_user).post(
        reverse("clients:equipment_install_from_stock", args=[location.pk]),
        {"serial_number": "ONT-1"},
    )
    entry = _only("equipment.move")
    assert entry.object_id == str(device.pk)
    assert entry.changes["status"] == ["in_stock", "installed"]
    assert entry.changes["location"] == [None, f"{location} (#{location.pk})"]


def test_a_refused_move_records_nothing(login, staff_user):
    router = EquipmentFactory()
    login(staff_user).post(
        reverse("clients:equipment_move", args=[router.pk]),
        {"destination": "stock", "status": "installed", "note": ""},
    )
    assert not AuditEntry.objects.filter(action="equipment.move").exists()


def test_every_action_of_the_clients_app_has_a_label():
    labels = action_labels()
    for action in [
        "client.create",
        "client.update",
        "client.cancel",
        "client.delete",
        "location.create",
        "location.update",
        "equipment.create",
        "equipment.update",
        "equipment.move",
    ]:
        assert labels[action]
