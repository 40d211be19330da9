"""Service locations and equipment: every field validated, moves keep their history."""

import pytest
from django.urls import reverse

from clients.equipment import EquipmentRuleError, move_equipment
from clients.models import Equipment, EquipmentMove, ServiceLocation
from clients.tests.factories import ClientFactory, EquipmentFactory, LocationFactory
from clients.validation import normalise_mac

pytestmark = pytest.mark.django_db

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


# --- Locations ----------------------------------------------------------------------------
def test_staff_adds_a_location_from_the_client_page(login, staff_user):
    client = ClientFactory()
    response = login(staff_user).post(
        reverse("clients:location_create", args=[client.pk]), NEW_LOCATION
    )
    location = ServiceLocation.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#location-{location.pk}")
    assert (location.client, location.street, str(location.latitude)) == (
        client,
        "12 Oak Street",
        "39.781721",
    )


@pytest.mark.parametrize("street", ["12 Oak Street", "12 oak street", "  12   OAK Street "])
def test_the_same_address_appears_once_per_client(login, staff_user, street):
    client = ClientFactory()
    LocationFactory(client=client, street="12 Oak Street", city="Springfield", postal_code="62704")
    response = login(staff_user).post(
        reverse("clients:location_create", args=[client.pk]),
        {**NEW_LOCATION, "street": street, "city": "SPRINGFIELD"},
    )
    assert response.status_code == 200
    assert "already has a location at this address" in " ".join(
        response.context["form"].errors["street"]
    )
    assert client.locations.count() == 1


def test_two_clients_may_share_an_address(login, staff_user):
    LocationFactory(street="12 Oak Street", city="Springfield", postal_code="62704")
    client = ClientFactory()
    login(staff_user).post(reverse("clients:location_create", args=[client.pk]), NEW_LOCATION)
    assert client.locations.count() == 1


def test_editing_a_location_may_keep_its_own_address(login, staff_user):
    location = LocationFactory(street="12 Oak Street", city="Springfield", postal_code="62704")
    response = login(staff_user).post(
        reverse("clients:location_edit", args=[location.pk]), {**NEW_LOCATION, "label": "Cabin"}
    )
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.label == "Cabin"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"label": ""}, "label", "This field is required"),
        ({"street": ""}, "street", "This field is required"),
        ({"city": ""}, "city", "This field is required"),
        ({"postal_code": ""}, "postal_code", "This field is required"),
        ({"postal_code": "6!"}, "postal_code", "postal code"),
        ({"label": "x" * 101}, "label", "at most 100 characters"),
        ({"status": "demolished"}, "status", "Select a valid choice"),
        ({"install_date": "yesterday"}, "install_date", "Enter a valid date"),
        ({"latitude": "91"}, "latitude", "less than or equal to 90"),
        ({"longitude": "-181"}, "longitude", "greater than or equal to -180"),
        ({"latitude": "north"}, "latitude", "Enter a number"),
        ({"longitude": "1.1234567"}, "longitude", "more than 6 decimal places"),
    ],
)
def test_location_form_rejects_bad_input_next_to_the_field(
    login, staff_user, changes, field, message
):
    client = ClientFactory()
    response = login(staff_user).post(
        reverse("clients:location_create", args=[client.pk]), {**NEW_LOCATION, **changes}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not ServiceLocation.objects.exists()


# --- Equipment ----------------------------------------------------------------------------
def test_staff_adds_a_router_at_a_location_with_its_first_history_line(login, staff_user):
    location = LocationFactory()
    response = login(staff_user).post(
        reverse("clients:equipment_create", args=[location.pk]), NEW_ROUTER
    )
    assert response.status_code == 302
    router = Equipment.objects.get()
    assert router.serial_number == "EER-000123"  # stored upper-case
    assert router.mac_address == "3C:84:6A:1F:00:2B"  # canonical notation
    assert router.location == location and router.status == "installed"
    assert router.install_date is not None  # today, when left blank
    move = router.moves.get()
    assert (move.from_location, move.to_location, move.moved_by) == (None, location, staff_user)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("3C:84:6A:1F:00:2B", "3C:84:6A:1F:00:2B"),
        ("3c-84-6a-1f-00-2b", "3C:84:6A:1F:00:2B"),
        ("3c84.6a1f.002b", "3C:84:6A:1F:00:2B"),
        ("3C846A1F002B", "3C:84:6A:1F:00:2B"),
        ("", ""),
    ],
)
def test_mac_addresses_in_common_notations_are_accepted(typed, stored):
    assert normalise_mac(typed) == stored


@pytest.mark.parametrize(
    "mac", ["3C:84:6A:1F:00", "3C:84:6A:1F:00:2G", "3C:84-6A:1F:00:2B", "not a mac", "3C846A1F002"]
)
def test_a_bad_mac_address_is_refused_next_to_the_field(login, staff_user, mac):
    location = LocationFactory()
    response = login(staff_user).post(
        reverse("clients:equipment_create", args=[location.pk]), {**NEW_ROUTER, "mac_address": mac}
    )
    assert response.status_code == 200
    assert "Enter a MAC address" in " ".join(response.context["form"].errors["mac_address"])
    assert not Equipment.objects.exists()


@pytest.mark.parametrize("serial", ["EER-000123", "eer-000123", " EER-000123 "])
def test_a_serial_number_is_unique_across_the_company(login, staff_user, serial):
    elsewhere = EquipmentFactory(serial_number="EER-000123")
    location = LocationFactory()
    response = login(staff_user).post(
        reverse("clients:equipment_create", args=[location.pk]),
        {**NEW_ROUTER, "serial_number": serial},
    )
    assert response.status_code == 200
    error = " ".join(response.context["form"].errors["serial_number"])
    assert "already recorded" in error
    assert elsewhere.location.client.account_number in error  # says where it is
    assert Equipment.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"serial_number": ""}, "serial_number", "This field is required"),
        ({"serial_number": "AB#12"}, "serial_number", "letters, digits"),
        ({"kind": "toaster"}, "kind", "Select a valid choice"),
        ({"ownership": "borrowed"}, "ownership", "Select a valid choice"),
        ({"status": "in_stock"}, "status", "Select a valid choice"),  # at a location
        ({"install_date": "2026-13-01"}, "install_date", "Enter a valid date"),
        ({"make_model": "x" * 121}, "make_model", "at most 120 characters"),
    ],
)
def test_equipment_form_rejects_bad_input_next_to_the_field(
    login, staff_user, changes, field, message
):
    location = LocationFactory()
    response = login(staff_user).post(
        reverse("clients:equipment_create", args=[location.pk]), {**NEW_ROUTER, **changes}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Equipment.objects.exists()


def test_editing_equipment_details_may_keep_its_own_serial(login, staff_user):
    router = EquipmentFactory(serial_number="EER-000123")
    response = login(staff_user).post(
        reverse("clients:equipment_edit", args=[router.pk]),
        {**NEW_ROUTER, "make_model": "Eero Max 7"},
    )
    assert response.status_code == 302
    router.refresh_from_db()
    assert router.make_model == "Eero Max 7"


def test_moving_equipment_to_another_location_and_back_to_stock_keeps_history(login, staff_user):
    client = ClientFactory()
    home, cabin = LocationFactory(client=client), LocationFactory(client=client, label="Cabin")
    router = EquipmentFactory(location=home)
    browser = login(staff_user)
    url = reverse("clients:equipment_move", args=[router.pk])
    browser.post(url, {"destination": cabin.pk, "status": "installed", "note": "Moved"})
    router.refresh_from_db()
    assert router.location == cabin
    browser.post(url, {"destination": "stock", "status": "returned", "note": "Cancelled"})
    router.refresh_from_db()
    assert (router.location, router.status) == (None, "returned")
    history = list(
        router.moves.order_by("pk").values_list("from_location", "to_location", "status")
    )
    assert history == [(home.pk, cabin.pk, "installed"), (cabin.pk, None, "returned")]
    page = browser.get(reverse("clients:equipment_detail", args=[router.pk])).content.decode()
    assert "Cabin" in page and "Cancelled" in page


def test_a_move_with_an_impossible_status_is_refused(login, staff_user):
    router = EquipmentFactory()
    response = login(staff_user).post(
        reverse("clients:equipment_move", args=[router.pk]),
        {"destination": "stock", "status": "installed"},
    )
    assert response.status_code == 200
    assert "in stock is in stock, returned or faulty" in " ".join(
        response.context["form"].errors["status"]
    )
    assert not EquipmentMove.objects.exists()


def test_a_move_cannot_go_to_another_clients_location(login, staff_user):
    router = EquipmentFactory()
    other = LocationFactory()
    response = login(staff_user).post(
        reverse("clients:equipment_move", args=[router.pk]),
        {"destination": other.pk, "status": "installed"},
    )
    assert "Select a valid choice" in " ".join(response.context["form"].errors["destination"])
    router.refresh_from_db()
    assert router.location != other


def test_moving_to_where_it_already_is_is_refused():
    router = EquipmentFactory()
    with pytest.raises(EquipmentRuleError):
        move_equipment(equipment=router, to_location=router.location, status="installed", by=None)


def test_a_device_in_stock_is_installed_at_a_location_by_its_serial(login, staff_user):
    spare = EquipmentFactory(location=None, status="in_stock", serial_number="EER-STOCK1")
    location = LocationFactory()
    login(staff_user).post(
        reverse("clients:equipment_install_from_stock", args=[location.pk]),
        {"serial_number": "eer-stock1"},
    )
    spare.refresh_from_db()
    assert (spare.location, spare.status) == (location, "installed")
    assert spare.moves.get().to_location == location


def test_installing_a_serial_that_is_not_in_stock_says_so(login, staff_user):
    EquipmentFactory(serial_number="EER-BUSY")
    location = LocationFactory()
    response = login(staff_user).post(
        reverse("clients:equipment_install_from_stock", args=[location.pk]),
        {"serial_number": "EER-BUSY"},
        follow=True,
    )
    assert "No working device with serial number EER-BUSY is in stock" in response.content.decode()
    assert not location.equipment.exists()


def test_stock_equipment_can_be_added_and_found_in_the_inventory(login, staff_user):
    browser = login(staff_user)
    browser.post(
        reverse("clients:equipment_stock_create"),
        {**NEW_ROUTER, "status": "in_stock", "serial_number": "ONT-99"},
    )
    device = Equipment.objects.get(serial_number="ONT-99")
    assert device.location is None
    listing = browser.get(reverse("clients:equipment_list"), {"q": "ont-9"})
    assert list(listing.context["page"]) == [device]
