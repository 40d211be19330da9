"""Staff workspace: the client list (search, filters, sort, paging), creating and editing
clients with every field validated, the client page, and who may delete."""

from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.accounts import client_has_financial_records
from clients.models import Client, Equipment, EquipmentMove, ServiceLocation
from clients.tests.factories import (
    ClientFactory,
    EquipmentFactory,
    InteractionFactory,
    LocationFactory,
    TaskFactory,
)
from staff.models import Role
from staff.tests.factories import UserFactory

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


def _list(client, **params):
    response = client.get(reverse("clients:client_list"), params)
    assert response.status_code == 200
    return [c.account_number for c in response.context["page"]]


# --- Create and edit ----------------------------------------------------------------------
def test_staff_adds_a_client_who_gets_the_next_account_number(login, staff_user):
    response = login(staff_user).post(reverse("clients:client_create"), NEW_CLIENT)
    client = Client.objects.get(name="Maria Lopez")
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:client_detail", args=[client.pk])
    assert client.account_number == "C-000001"
    assert str(client.phone) == "+12175550134"  # stored E.164


@pytest.mark.parametrize(
    "typed",
    ["(217) 555-0134", "217-555-0134", "217.555.0134", "2175550134", "+1 217 555 0134",
     "+12175550134", "1 (217) 555-0134"],
)  # fmt: skip
def test_phone_numbers_in_any_format_are_stored_in_e164(login, staff_user, typed):
    login(staff_user).post(reverse("clients:client_create"), {**NEW_CLIENT, "phone": typed})
    assert str(Client.objects.get().phone) == "+12175550134"


def test_phone_is_shown_in_national_format(login, staff_user):
    client = ClientFactory(phone="+12175550134")
    page = login(staff_user).get(reverse("clients:client_detail", args=[client.pk]))
    assert "(217) 555-0134" in page.content.decode()
    form = login(staff_user).get(reverse("clients:client_edit", args=[client.pk]))
    assert 'value="(217) 555-0134"' in form.content.decode()


def test_foreign_phone_numbers_keep_their_country_code(login, staff_user):
    client = ClientFactory(phone="+442079460958")
    page = login(staff_user).get(reverse("clients:client_detail", args=[client.pk]))
    assert "+44 20 7946 0958" in page.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required"),
        ({"name": "   "}, "name", "This field is required"),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"company_name": "x" * 201}, "company_name", "at most 200 characters"),
        ({"email": "maria@"}, "email", "Enter a valid email address"),
        ({"phone": "555"}, "phone", "Enter a valid phone number"),
        ({"phone": "217-555-01"}, "phone", "Enter a valid phone number"),
        ({"phone": "call me"}, "phone", "Enter a valid phone number"),
        ({"status": "archived"}, "status", "Select a valid choice"),
        ({"segment": "government"}, "segment", "Select a valid choice"),
        ({"signup_date": "31/31/2026"}, "signup_date", "Enter a valid date"),
        ({"billing_postal_code": "#!"}, "billing_postal_code", "postal code"),
        ({"billing_street": "x" * 201}, "billing_street", "at most 200 characters"),
        ({"billing_city": "x" * 101}, "billing_city", "at most 100 characters"),
    ],
)
def test_client_form_rejects_bad_input_next_to_the_field(
    login, staff_user, changes, field, message
):
    response = login(staff_user).post(reverse("clients:client_create"), {**NEW_CLIENT, **changes})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Client.objects.exists()


def test_ticking_a_consent_records_when_it_was_given_and_unticking_clears_it(login, staff_user):
    client = ClientFactory()
    browser = login(staff_user)
    url = reverse("clients:client_edit", args=[client.pk])
    data = {**NEW_CLIENT, "consent_sms": "on"}
    browser.post(url, data)
    client.refresh_from_db()
    assert client.consent_sms and client.consent_sms_at is not None
    given_at = client.consent_sms_at
    browser.post(url, data)  # saved again: the date stays the date it was given
    client.refresh_from_db()
    assert client.consent_sms_at == given_at
    browser.post(url, NEW_CLIENT)
    client.refresh_from_db()
    assert not client.consent_sms and client.consent_sms_at is None


def test_editing_a_client_keeps_its_account_number(login, staff_user):
    client = ClientFactory(account_number="C-000042")
    login(staff_user).post(
        reverse("clients:client_edit", args=[client.pk]),
        {**NEW_CLIENT, "account_number": "C-999999", "name": "Renamed"},
    )
    client.refresh_from_db()
    assert (client.name, client.account_number) == ("Renamed", "C-000042")


# --- List: search, filters, sort, paging --------------------------------------------------
@pytest.fixture
def three_clients():
    ann = ClientFactory(
        account_number="C-000101",
        name="Ann Lee",
        email="ann@lee.example",
        phone="+12175550101",
        billing_street="1 Birch Road",
        billing_city="Chatham",
    )
    bob = ClientFactory(
        account_number="C-000102",
        name="Bob Stone",
        company_name="Stone Bakery",
        email="bob@stone.example",
        phone="+13095550102",
        segment=Client.Segment.BUSINESS,
        status=Client.Status.SUSPENDED,
        billing_city="Peoria",
    )
    cat = ClientFactory(account_number="C-000103", name="Cat Diaz", phone="+16185550103")
    LocationFactory(client=cat, street="77 Sunset Boulevard", city="Decatur")
    EquipmentFactory(location=LocationFactory(client=bob), serial_number="ZTEG0042ABCD")
    return ann, bob, cat


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ann lee", ["C-000101"]),
        ("STONE BAK", ["C-000102"]),  # company name, any case
        ("C-000103", ["C-000103"]),
        ("c000103", ["C-000103"]),
        ("103", ["C-000103"]),  # the number alone
        ("bob@stone", ["C-000102"]),
        ("(309) 555-0102", ["C-000102"]),  # phone, national format
        ("309.555.0102", ["C-000102"]),
        ("+1 309 555 0102", ["C-000102"]),
        ("5550101", ["C-000101"]),  # a fragment of a phone number
        ("birch road", ["C-000101"]),  # billing address
        ("sunset boul", ["C-000103"]),  # a location's address
        ("zteg0042abcd", ["C-000102"]),  # an equipment serial number, any case
        ("0042AB", ["C-000102"]),
        ("nobody", []),
    ],
)
def test_client_search_finds_by_every_field(login, staff_user, three_clients, q, expected):
    assert _list(login(staff_user), q=q) == expected


def test_client_list_filters_by_status_type_and_city(login, staff_user, three_clients):
    browser = login(staff_user)
    assert _list(browser, status="suspended") == ["C-000102"]
    assert _list(browser, segment="business") == ["C-000102"]
    assert _list(browser, city="chatham") == ["C-000101"]  # billing city, any case
    assert _list(browser, city="Decatur") == ["C-000103"]  # a location's city
    assert _list(browser, status="active", city="Peoria") == []


def test_client_list_sorts(login, staff_user, three_clients):
    browser = login(staff_user)
    assert _list(browser, sort="name") == ["C-000101", "C-000102", "C-000103"]
    assert _list(browser, sort="-name") == ["C-000103", "C-000102", "C-000101"]
    assert _list(browser, sort="bogus") == ["C-000101", "C-000102", "C-000103"]


def test_client_list_pages_by_fifty(login, staff_user):
    ClientFactory.create_batch(51)
    browser = login(staff_user)
    assert len(_list(browser)) == 50
    assert len(_list(browser, page=2)) == 1


def test_client_search_pages_counts_and_keeps_the_order(login, staff_user):
    # 51 matches and one client that does not match: the search's page and count come from one
    # query (COUNT(*) OVER ()), the figures from a second one for the page's rows only.
    for n in range(51):
        ClientFactory(name=f"Smith {n:02d}")
    ClientFactory(name="Jones")
    browser = login(staff_user)
    response = browser.get(reverse("clients:client_list"), {"q": "smith", "sort": "-name"})
    page = response.context["page"]
    assert (page.paginator.count, page.paginator.num_pages, len(page)) == (51, 2, 50)
    assert [c.name for c in page][:2] == ["Smith 50", "Smith 49"]
    assert all(hasattr(c, "ledger_balance") for c in page)
    assert 'data-count="51"' in response.content.decode()
    assert [
        c.name
        for c in browser.get(
            reverse("clients:client_list"), {"q": "smith", "sort": "-name", "page": "2"}
        ).context["page"]
    ] == ["Smith 00"]
    # Like any list: a page past the end shows the last one, a bad one the first.
    assert (
        browser.get(reverse("clients:client_list"), {"q": "smith", "page": "9"})
        .context["page"]
        .number
        == 2
    )
    assert (
        browser.get(reverse("clients:client_list"), {"q": "smith", "page": "x"})
        .context["page"]
        .number
        == 1
    )
    empty = browser.get(reverse("clients:client_list"), {"q": "nobody"}).context["page"]
    assert (empty.paginator.count, list(empty)) == (0, [])


def _queries(browser, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("count", [5, 50])
def test_client_list_query_count_does_not_grow_with_clients(
    login, staff_user, django_assert_max_num_queries, count
):
    for client in ClientFactory.create_batch(count):
        EquipmentFactory(location=LocationFactory(client=client))
    browser = login(staff_user)
    browser.get(reverse("clients:client_list"))  # warm the session
    # session + user + the page's ids with the count (the search's UNION, once) + the page's
    # clients with their figures
    with django_assert_max_num_queries(4):
        browser.get(reverse("clients:client_list"), {"q": "street", "sort": "-signup"})


@pytest.mark.parametrize("count", [5, 50])
def test_client_page_query_count_does_not_grow_with_locations(
    login, staff_user, django_assert_max_num_queries, count
):
    from services.tests.factories import ServiceFactory, SubscriptionFactory

    client = ClientFactory(user=UserFactory(role=Role.CLIENT))  # its portal login is shown
    fiber = ServiceFactory()
    for _ in range(count):
        location = LocationFactory(client=client)
        EquipmentFactory(location=location)
        EquipmentFactory(location=location, kind=Equipment.Kind.ONT)
        InteractionFactory(client=client)
        TaskFactory(client=client, assignee=staff_user)
        SubscriptionFactory(location=location, service=fiber)
    browser = login(staff_user)
    url = reverse("clients:client_detail", args=[client.pk])
    browser.get(url)
    # session, user, client with its portal login and ledger figures, locations, equipment,
    # interactions, tasks, and the monthly bill fragment: subscriptions with their services,
    # price history; the invoices app's invoice summary (shared by its collections card and
    # invoices fragment): invoices, open and overdue figures, credit notes; the collections
    # card: open suspension, reminders; the money fragment: latest payments (its figures are
    # the client's own annotations)
    with django_assert_max_num_queries(15):
        response = browser.get(url)
    assert len(response.context["locations"]) == count


def test_list_and_client_page_cost_the_same_queries_for_5_and_50(login, staff_user):
    browser = login(staff_user)
    browser.get(reverse("workspace_home"))  # the session's first request also records activity
    few = ClientFactory()
    for _ in range(5):
        EquipmentFactory(location=LocationFactory(client=few))
    ClientFactory.create_batch(4)
    list_few = _queries(browser, reverse("clients:client_list"))
    page_few = _queries(browser, reverse("clients:client_detail", args=[few.pk]))
    many = ClientFactory()
    for _ in range(50):
        EquipmentFactory(location=LocationFactory(client=many))
    ClientFactory.create_batch(45)
    assert _queries(browser, reverse("clients:client_list")) == list_few
    assert _queries(browser, reverse("clients:client_detail", args=[many.pk])) == page_few


# --- The client page ----------------------------------------------------------------------
def test_client_page_shows_the_whole_account(login, staff_user):
    client = ClientFactory(name="Dana Cole", email="dana@example.com")
    location = LocationFactory(client=client, label="Cabin", street="9 Lake Drive")
    EquipmentFactory(location=location, serial_number="EERO123", mac_address="3C:84:6A:00:00:01")
    InteractionFactory(client=client, subject="Asked about 1 Gig")
    TaskFactory(client=client, title="Send the quote", assignee=staff_user)
    html = (
        login(staff_user).get(reverse("clients:client_detail", args=[client.pk])).content.decode()
    )
    for text in ("Dana Cole", "dana@example.com", "Cabin", "9 Lake Drive", "EERO123",
                 "3C:84:6A:00:00:01", "Asked about 1 Gig", "Send the quote"):  # fmt: skip
        assert text in html


def test_an_unknown_client_is_404(login, staff_user):
    assert login(staff_user).get(reverse("clients:client_detail", args=[999])).status_code == 404


# --- Delete or cancel ---------------------------------------------------------------------
def test_staff_never_see_a_delete_button_and_get_403(login, staff_user):
    client = ClientFactory()
    browser = login(staff_user)
    page = browser.get(reverse("clients:client_detail", args=[client.pk])).content.decode()
    assert reverse("clients:client_delete", args=[client.pk]) not in page
    assert browser.get(reverse("clients:client_delete", args=[client.pk])).status_code == 403
    assert browser.post(reverse("clients:client_delete", args=[client.pk])).status_code == 403
    assert Client.objects.filter(pk=client.pk).exists()


def test_admin_sees_the_delete_button(login, admin_user):
    client = ClientFactory()
    page = login(admin_user).get(reverse("clients:client_detail", args=[client.pk]))
    assert reverse("clients:client_delete", args=[client.pk]) in page.content.decode()


def test_admin_deletes_a_client_without_financial_records_after_confirming(login, admin_user):
    client = ClientFactory()
    device = EquipmentFactory(location=LocationFactory(client=client))
    browser = login(admin_user)
    confirm = browser.get(reverse("clients:client_delete", args=[client.pk]))
    assert "Delete permanently" in confirm.content.decode()
    assert Client.objects.filter(pk=client.pk).exists()  # GET changes nothing
    response = browser.post(reverse("clients:client_delete", args=[client.pk]))
    assert response["Location"] == reverse("clients:client_list")
    assert not Client.objects.filter(pk=client.pk).exists()
    assert not ServiceLocation.objects.exists()
    device.refresh_from_db()  # the router went back to stock, with its history
    assert (device.location, device.status) == (None, Equipment.Status.RETURNED)
    assert EquipmentMove.objects.filter(equipment=device, status="returned").exists()


@pytest.fixture
def client_with_invoices(monkeypatch):
    """A client with a financial record. The invoices app does not exist yet, so another
    reverse relation (interactions) stands in for `invoices`: the check finds relations by
    name through _meta, exactly as it will find Invoice.client (related_name="invoices")."""
    monkeypatch.setattr("clients.accounts.FINANCIAL_RELATIONS", ("interactions",))
    client = ClientFactory()
    InteractionFactory(client=client)
    return client


def test_today_no_client_has_financial_records():
    client = ClientFactory()
    InteractionFactory(client=client)
    assert client_has_financial_records(client) is False


def test_a_client_with_an_empty_financial_relation_has_no_financial_records(monkeypatch):
    monkeypatch.setattr("clients.accounts.FINANCIAL_RELATIONS", ("interactions",))
    assert client_has_financial_records(ClientFactory()) is False


def test_a_client_with_invoices_has_financial_records(client_with_invoices):
    assert client_has_financial_records(client_with_invoices) is True


def test_a_client_with_financial_records_is_cancelled_not_deleted_and_the_page_says_why(
    login, admin_user, client_with_invoices
):
    client = client_with_invoices
    browser = login(admin_user)
    confirm = browser.get(reverse("clients:client_delete", args=[client.pk])).content.decode()
    assert "cannot be deleted" in confirm and "invoices or payments" in confirm
    response = browser.post(reverse("clients:client_delete", args=[client.pk]), follow=True)
    client.refresh_from_db()
    assert client.status == Client.Status.CANCELLED
    assert "cancelled instead of deleted" in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("clients:client_detail", args=[client.pk])


class _FormNesting(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth = self.deepest = 0

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag):
        if tag == "form":
            self.depth -= 1


def test_no_page_nests_a_form_in_a_form(login, staff_user):
    """Browsers drop a nested <form> and end the outer one early, leaving its button outside
    (crispy renders its own <form> unless the helper says form_tag=False)."""
    device = EquipmentFactory()
    location = device.location
    task = TaskFactory(client=location.client, assignee=staff_user)
    browser = login(staff_user)
    urls = [
        reverse("clients:client_create"),
        reverse("clients:client_edit", args=[location.client_id]),
        reverse("clients:client_detail", args=[location.client_id]),
        reverse("clients:location_create", args=[location.client_id]),
        reverse("clients:location_edit", args=[location.pk]),
        reverse("clients:equipment_create", args=[location.pk]),
        reverse("clients:equipment_stock_create"),
        reverse("clients:equipment_edit", args=[device.pk]),
        reverse("clients:equipment_move", args=[device.pk]),
        reverse("clients:interaction_create", args=[location.client_id]),
        reverse("clients:task_create"),
        reverse("clients:task_edit", args=[task.pk]),
        reverse("clients:task_complete", args=[task.pk]),
        reverse("clients:import_start"),
        reverse("clients:client_list"),
    ]
    for url in urls:
        parser = _FormNesting()
        parser.feed(browser.get(url).content.decode())
        assert parser.deepest == 1 or (parser.deepest == 0 and url.endswith("/clients/")), url
