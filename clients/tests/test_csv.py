"""CSV import (dry run with every error, then all-or-nothing) and export (round trip)."""

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clients.accounts import create_client, next_account_number
from clients.exporting import escape_cell
from clients.importing import COLUMNS, parse_clients_csv
from clients.models import Client, ClientImport, Equipment, ServiceLocation
from clients.tests.factories import ClientFactory, EquipmentFactory, LocationFactory

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)


def _csv(*rows: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


GOOD = {
    "name": "Maria Lopez",
    "email": "maria@example.com",
    "phone": "(217) 555-0134",
    "status": "active",
    "location_label": "Home",
    "location_street": "12 Oak Street",
    "location_city": "Springfield",
    "location_postal_code": "62704",
}


def _upload(browser, text: str, name: str = "clients.csv"):
    return browser.post(
        reverse("clients:import_start"),
        {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")},
    )


# --- Dry run ------------------------------------------------------------------------------
def test_upload_shows_a_dry_run_preview_and_saves_nothing(login, staff_user):
    browser = login(staff_user)
    response = _upload(
        browser, _csv(GOOD, {**GOOD, "name": "Tom Becker", "location_street": "9 Elm"})
    )
    record = ClientImport.objects.get()
    assert response["Location"] == reverse("clients:import_preview", args=[record.pk])
    assert (record.status, record.client_count, record.location_count) == ("valid", 2, 2)
    assert not Client.objects.exists()
    page = browser.get(response["Location"]).content.decode()
    assert "Maria Lopez" in page and "Import 2 clients" in page and "dry run" in page


def test_the_dry_run_lists_every_rows_errors_with_row_number_and_column(login, staff_user):
    ClientFactory(account_number="C-000500")
    text = _csv(
        GOOD,  # row 2: fine
        {**GOOD, "name": ""},  # row 3
        {**GOOD, "name": "Bad Phone", "phone": "555-12"},  # row 4
        {**GOOD, "name": "Bad Email", "email": "not-an-email"},  # row 5
        {**GOOD, "name": "Taken", "account_number": "C-000500"},  # row 6
        {**GOOD, "name": "Odd", "status": "gone", "signup_date": "yesterday",
         "consent_sms": "maybe", "location_latitude": "123"},  # row 7
        {**GOOD, "name": "No street", "location_street": ""},  # row 8
    )  # fmt: skip
    response = _upload(login(staff_user), text)
    record = ClientImport.objects.get()
    assert record.status == "invalid"
    errors = {(e["row"], e["field"]) for e in record.errors}
    assert errors == {
        (3, "name"),
        (4, "phone"),
        (5, "email"),
        (6, "account_number"),
        (7, "status"),
        (7, "signup_date"),
        (7, "consent_sms"),
        (7, "location_latitude"),
        (8, "location_street"),
    }
    messages = " ".join(e["message"] for e in record.errors)
    assert "Missing name" in messages and "Duplicate account number" in messages
    page = login(staff_user).get(response["Location"]).content.decode()
    assert "9 errors" in page and "not a valid phone number" in page
    assert "Import " not in page.split("errors")[1]  # no import button
    assert not Client.objects.exclude(account_number="C-000500").exists()


def test_rows_sharing_an_account_number_are_one_client_with_several_locations():
    plan = parse_clients_csv(
        _csv(
            {**GOOD, "account_number": "C-900001"},
            {
                "account_number": "C-900001",
                "location_label": "Cabin",
                "location_street": "1 Lake",
                "location_city": "Chatham",
                "location_postal_code": "62629",
            },
        )  # fmt: skip
    )
    assert plan.errors == []
    assert len(plan.clients) == 1 and plan.location_count == 2


def test_a_repeated_account_number_with_different_details_is_an_error():
    plan = parse_clients_csv(
        _csv(
            {**GOOD, "account_number": "C-900001"},
            {
                **GOOD,
                "account_number": "C-900001",
                "name": "Someone Else",
                "location_street": "2 X",
            },
        )
    )
    assert [(e.row, e.field) for e in plan.errors] == [(3, "name")]


def test_the_same_address_twice_for_one_client_is_an_error():
    plan = parse_clients_csv(
        _csv(
            {**GOOD, "account_number": "C-1"},
            {
                "account_number": "C-1",
                **{k: v for k, v in GOOD.items() if k.startswith("location_")},
            },
        )  # fmt: skip
    )
    assert [(e.row, e.field) for e in plan.errors] == [(3, "location_street")]


def test_a_bad_header_is_reported_on_row_one():
    plan = parse_clients_csv("full_name,email\nAnn,ann@example.com\n")
    assert {(e.row, e.field) for e in plan.errors} == {(1, "full_name"), (1, "name")}


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "file is empty"), ("name\nJos\xe9\n".encode("latin-1"), "not UTF-8")],
)
def test_unreadable_files_are_refused_on_the_upload_form(login, staff_user, content, message):
    response = login(staff_user).post(
        reverse("clients:import_start"), {"file": SimpleUploadedFile("x.csv", content)}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert not ClientImport.objects.exists()


def test_excel_style_files_are_read(login, staff_user):
    # A byte-order mark, semicolons and US dates, as Excel writes them in some locales.
    text = "\ufeffname;phone;signup_date\nAnn Lee;217-555-0101;3/31/2026\n"
    plan = parse_clients_csv(text.lstrip("\ufeff"))
    assert plan.errors == []
    assert plan.clients[0].values["signup_date"] == date(2026, 3, 31)
    assert plan.clients[0].values["phone"] == "+12175550101"


# --- Import -------------------------------------------------------------------------------
def test_confirming_imports_every_client_and_location_in_one_go(login, staff_user):
    browser = login(staff_user)
    _upload(
        browser,
        _csv(GOOD, {**GOOD, "name": "Tom Becker", "account_number": "C-000900",
                    "location_street": "400 Main"}),
    )  # fmt: skip
    record = ClientImport.objects.get()
    response = browser.post(reverse("clients:import_commit", args=[record.pk]), follow=True)
    assert "2 clients and 2 locations were imported" in response.content.decode()
    maria = Client.objects.get(name="Maria Lopez")
    assert maria.account_number.startswith("C-") and str(maria.phone) == "+12175550134"
    assert maria.locations.get().street == "12 Oak Street"
    assert Client.objects.get(name="Tom Becker").account_number == "C-000900"
    # The counter moved past the imported number: the next sign-up does not collide.
    assert next_account_number() == "C-000901"
    record.refresh_from_db()
    assert record.status == "imported" and record.seconds is not None


def test_importing_twice_imports_once(login, staff_user):
    browser = login(staff_user)
    _upload(browser, _csv(GOOD))
    record = ClientImport.objects.get()
    browser.post(reverse("clients:import_commit", args=[record.pk]))
    browser.post(reverse("clients:import_commit", args=[record.pk]))
    assert Client.objects.count() == 1


def test_a_file_with_one_bad_row_imports_nothing(login, staff_user):
    browser = login(staff_user)
    rows = [{**GOOD, "name": f"Client {i}", "location_street": f"{i} Oak"} for i in range(50)]
    rows[37]["email"] = "broken@"
    _upload(browser, _csv(*rows))
    record = ClientImport.objects.get()
    assert [(e["row"], e["field"]) for e in record.errors] == [(39, "email")]
    response = browser.post(reverse("clients:import_commit", args=[record.pk]), follow=True)
    assert "Fix the errors" in response.content.decode()
    assert not Client.objects.exists() and not ServiceLocation.objects.exists()


def test_an_account_number_taken_after_the_preview_stops_the_whole_import(login, staff_user):
    browser = login(staff_user)
    _upload(browser, _csv(GOOD, {**GOOD, "name": "Late", "account_number": "C-000321",
                                 "location_street": "2 Oak"}))  # fmt: skip
    record = ClientImport.objects.get()
    create_client(name="Got there first", account_number="C-000321")
    response = browser.post(reverse("clients:import_commit", args=[record.pk]), follow=True)
    assert "nothing was imported" in response.content.decode()
    assert list(Client.objects.values_list("name", flat=True)) == ["Got there first"]
    record.refresh_from_db()
    assert record.status == "invalid"
    assert record.errors[0]["field"] == "account_number"


def test_a_database_refusal_mid_import_rolls_everything_back(monkeypatch):
    from clients import importing

    plan = parse_clients_csv(_csv(GOOD, {**GOOD, "name": "Two", "location_street": "2 Oak"}))

    def explode(*args, **kwargs):
        from django.db import IntegrityError

        raise IntegrityError("simulated")

    monkeypatch.setattr(importing.ServiceLocation.objects, "bulk_create", explode)
    with pytest.raises(importing.ImportFailed):
        importing.import_plan(plan=plan)
    assert not Client.objects.exists()  # the clients inserted before the failure are gone


def test_the_template_downloads_and_imports_cleanly(login, staff_user):
    response = login(staff_user).get(reverse("clients:import_template"))
    text = b"".join(response.streaming_content).decode()
    assert text.startswith(HEADER)
    plan = parse_clients_csv(text)
    assert plan.errors == [] and len(plan.clients) == 2 and plan.location_count == 3


# --- Export -------------------------------------------------------------------------------
def _download(browser, name: str, **params) -> list[dict]:
    response = browser.get(reverse(f"clients:{name}"), params)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_client_export_follows_the_list_filters(login, staff_user):
    ClientFactory(name="Ann", status="active")
    ClientFactory(name="Ben", status="suspended")
    rows = _download(login(staff_user), "client_export", status="suspended")
    assert [r["name"] for r in rows] == ["Ben"]


def test_location_and_equipment_exports(login, staff_user):
    router = EquipmentFactory(serial_number="EER-1", mac_address="3C:84:6A:00:00:01")
    EquipmentFactory(location=None, status="in_stock", serial_number="SPARE-1")
    browser = login(staff_user)
    locations = _download(browser, "location_export")
    assert [(r["account_number"], r["street"], r["equipment_count"]) for r in locations] == [
        (router.location.client.account_number, router.location.street, "1")
    ]
    equipment = _download(browser, "equipment_export")
    assert [(r["serial_number"], r["account_number"]) for r in equipment] == [
        ("EER-1", router.location.client.account_number),
        ("SPARE-1", ""),
    ]
    filtered = _download(browser, "equipment_export", q="nobody-matches")
    assert filtered == []


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("@cmd", "'@cmd"),
        ("+1 217 555", "+1 217 555"),  # a phone stays as it is
        ("-89.650148", "-89.650148"),  # a longitude too
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("Plain", "Plain"),
    ],
)
def test_export_defuses_spreadsheet_formulas(value, written):
    assert escape_cell(value) == written


def test_export_then_import_reproduces_the_data(login, staff_user):
    """The round trip: every client field and every location survives export → import."""
    ann = create_client(
        name="Ann Lee",
        company_name="=Lee & Co",  # a formula-looking name survives too
        email="ann@lee.example",
        phone="+12175550101",
        status=Client.Status.SUSPENDED,
        segment=Client.Segment.BUSINESS,
        signup_date=date(2025, 4, 1),
        billing_street="1 Birch Road",
        billing_city="Chatham",
        billing_postal_code="62629",
        notes="Gate code 1234\nDog on site",
        consent_sms=True,
        consent_sms_at="2025-04-02T10:00:00+00:00",
    )
    LocationFactory(client=ann, label="Shop", street="1 Birch Road", city="Chatham",
                    postal_code="62629", latitude="39.123456", longitude="-89.654321",
                    install_date=date(2025, 4, 10), status="active")  # fmt: skip
    LocationFactory(client=ann, label="Depot", street="5 Rail Way", city="Chatham",
                    postal_code="62629", status="planned")  # fmt: skip
    create_client(name="Bo Kim", email="", phone="", signup_date=date(2026, 1, 2))  # no location

    fields = [
        f.name for f in Client._meta.fields if f.name not in ("id", "created_at", "updated_at")
    ]
    loc_fields = ["label", "street", "city", "postal_code", "latitude", "longitude",
                  "install_date", "status"]  # fmt: skip

    def snapshot():
        return {
            c.account_number: (
                {f: str(getattr(c, f)) for f in fields},
                sorted(
                    tuple(str(getattr(loc, f)) for f in loc_fields) for loc in c.locations.all()
                ),
            )
            for c in Client.objects.prefetch_related("locations")
        }

    before = snapshot()
    browser = login(staff_user)
    exported = b"".join(browser.get(reverse("clients:client_export")).streaming_content).decode()
    ServiceLocation.objects.all().delete()
    Client.objects.all().delete()

    response = _upload(browser, exported)
    record = ClientImport.objects.get()
    assert record.errors == [], record.errors
    browser.post(reverse("clients:import_commit", args=[record.pk]))
    assert response.status_code == 302
    assert snapshot() == before


def test_equipment_export_has_one_row_per_device(login, staff_user):
    EquipmentFactory.create_batch(3)
    assert len(_download(login(staff_user), "equipment_export")) == Equipment.objects.count()
