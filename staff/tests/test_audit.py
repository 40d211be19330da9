"""The audit log: an entry for every log-in event and staff-management action, before/after
values, append-only storage, and the admins' page to browse it."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site as admin_site
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from staff.audit import diff, plain, record, snapshot
from staff.models import AuditEntry, Role, User
from staff.tests.factories import TEST_PASSWORD, UserFactory
from staff.tests.helpers import password_step

pytestmark = pytest.mark.django_db


def _only(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


# --- Log-in events -------------------------------------------------------------------------
def test_a_login_is_recorded_with_who_and_from_where(client, staff_user):
    password_step(client, staff_user, REMOTE_ADDR="192.0.2.10")
    entry = _only("auth.login")
    assert entry.actor == staff_user
    assert entry.actor_label == staff_user.email
    assert entry.ip_address == "192.0.2.10"
    assert entry.note == "password"


def test_a_failed_login_is_recorded_with_the_email_tried(client, staff_user):
    client.post(reverse("login"), {"username": staff_user.email, "password": "wrong"})
    client.post(reverse("login"), {"username": "ghost@test.example", "password": "wrong"})
    known, unknown = AuditEntry.objects.filter(action="auth.login_failed").order_by("pk")
    assert known.object_id == str(staff_user.pk)
    assert known.actor is None
    assert "staff@test.example" in known.note
    assert unknown.object_id == ""
    assert "ghost@test.example" in unknown.note


# --- Staff management ----------------------------------------------------------------------
NEW_MEMBER = {
    "first_name": "Nora",
    "last_name": "Field",
    "email": "nora@test.example",
    "role": Role.STAFF,
    "phone": "",
    "password1": "splice-the-fiber-42",
    "password2": "splice-the-fiber-42",
}


def test_creating_a_member_is_recorded(login, admin_user):
    login(admin_user).post(reverse("staff:team_create"), NEW_MEMBER)
    entry = _only("staff.create")
    nora = User.objects.get(email="nora@test.example")
    assert entry.actor == admin_user
    assert entry.object_type == "staff.user"
    assert entry.object_id == str(nora.pk)
    assert entry.changes["role"] == [None, "staff"]
    assert entry.changes["email"] == [None, "nora@test.example"]


def test_editing_a_member_records_before_and_after(login, admin_user, staff_user):
    login(admin_user).post(
        reverse("staff:team_edit", args=[staff_user.pk]),
        {"first_name": "Samuel", "last_name": "Staff", "email": staff_user.email, "role": "staff"},
    )
    entry = _only("staff.update")
    assert entry.changes == {"first_name": ["Sam", "Samuel"]}


def test_a_role_change_is_its_own_action(login, admin_user, staff_user):
    login(admin_user).post(
        reverse("staff:team_edit", args=[staff_user.pk]),
        {"first_name": "Sam", "last_name": "Staff", "email": staff_user.email, "role": "admin"},
    )
    assert _only("staff.role_change").changes == {"role": ["staff", "admin"]}


def test_saving_without_changes_records_nothing(login, admin_user, staff_user):
    login(admin_user).post(
        reverse("staff:team_edit", args=[staff_user.pk]),
        {"first_name": "Sam", "last_name": "Staff", "email": staff_user.email, "role": "staff"},
    )
    assert not AuditEntry.objects.filter(action__startswith="staff.").exists()


def test_deactivating_and_reactivating_are_recorded(login, admin_user, staff_user):
    client = login(admin_user)
    client.post(reverse("staff:team_deactivate", args=[staff_user.pk]))
    client.post(reverse("staff:team_reactivate", args=[staff_user.pk]))
    assert _only("staff.deactivate").changes == {"is_active": [True, False]}
    assert _only("staff.reactivate").changes == {"is_active": [False, True]}
    assert _only("staff.deactivate").actor == admin_user


def test_a_refused_deactivation_records_nothing(login, admin_user):
    login(admin_user).post(reverse("staff:team_deactivate", args=[admin_user.pk]))
    assert not AuditEntry.objects.filter(action="staff.deactivate").exists()


def test_sending_a_password_link_is_recorded(login, admin_user, staff_user):
    login(admin_user).post(reverse("staff:team_password_link", args=[staff_user.pk]))
    entry = _only("staff.password_link")
    assert entry.actor == admin_user
    assert entry.object_id == str(staff_user.pk)


def test_a_member_created_without_password_records_the_link_too(login, admin_user):
    login(admin_user).post(
        reverse("staff:team_create"), {**NEW_MEMBER, "password1": "", "password2": ""}
    )
    assert _only("staff.create").note == "password link emailed"
    assert _only("staff.password_link").actor == admin_user


# (2FA reset and unlock: test_twofactor.py and test_lockout.py check their entries.)


def test_profile_changes_are_recorded_field_by_field(login, alice_user):
    login(alice_user).post(
        reverse("accounts:profile"),
        {
            "first_name": "Alicia",
            "last_name": "Martin",
            "email": "alicia@test.example",
            "phone": "+12175550199",
            "current_password": TEST_PASSWORD,
        },
    )
    assert _only("account.profile_update").changes == {"first_name": ["Alice", "Alicia"]}
    # A new address and a new number are only requested here (a link, a code): the changes
    # themselves are recorded when confirmed (test_account_changes.py).
    assert _only("account.email_change_request").changes == {
        "email": ["alice@test.example", "alicia@test.example"]
    }
    assert not AuditEntry.objects.filter(action="account.email_change").exists()
    assert not AuditEntry.objects.filter(action="account.phone_change").exists()


# --- record() and diff() for the other apps ---------------------------------------------------
def test_record_keeps_the_object_and_the_changes(admin_user, staff_user):
    entry = record(
        actor=admin_user,
        action="client.update",
        obj=staff_user,
        changes={"credit_limit": [Decimal("10.00"), Decimal("12.50")]},
    )
    entry.refresh_from_db()
    assert entry.object_type == "staff.user"
    assert entry.object_repr == "Sam Staff"
    assert entry.changes == {"credit_limit": ["10.00", "12.50"]}
    assert entry.ip_address is None


def test_record_accepts_an_anonymous_actor_and_odd_text(rf):
    from django.contrib.auth.models import AnonymousUser

    request = rf.post("/", REMOTE_ADDR="not-an-ip")
    entry = record(
        actor=AnonymousUser(), action="x.y", note="nul\x00byte " + "z" * 900, request=request
    )
    assert entry.actor is None
    assert "\x00" not in entry.note
    assert len(entry.note) == 500
    assert entry.ip_address is None


def test_diff_compares_a_snapshot_with_the_saved_object(staff_user):
    fields = ["first_name", "role", "last_login", "is_active"]
    before = snapshot(staff_user, fields)
    staff_user.first_name = "Samantha"
    staff_user.last_login = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)
    assert diff(before, staff_user, fields) == {
        "first_name": ["Sam", "Samantha"],
        "last_login": [None, "2026-03-01T09:30:00+00:00"],
    }


def test_diff_takes_dicts_and_plain_makes_values_readable(staff_user):
    assert diff({"price": Decimal("49.90")}, {"price": Decimal("54.90")}, ["price"]) == {
        "price": ["49.90", "54.90"]
    }
    assert plain(datetime.date(2026, 1, 31)) == "2026-01-31"
    assert plain(staff_user) == f"Sam Staff (#{staff_user.pk})"
    assert plain(Role.ADMIN) == "admin"
    assert plain({"a": [Decimal("1.5")]}) == {"a": ["1.5"]}


# --- Append-only ---------------------------------------------------------------------------
def test_entries_cannot_be_changed_or_deleted_through_the_orm(admin_user):
    entry = record(actor=admin_user, action="test.thing")
    entry.note = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(note="rewritten")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.note == ""


def test_the_database_refuses_updates_of_entries(admin_user):
    entry = record(actor=admin_user, action="test.thing")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE staff_auditentry SET note = 'forged' WHERE id = %s", [entry.pk])


@pytest.mark.postgres_only
def test_postgresql_refuses_deleting_entries(admin_user):
    entry = record(actor=admin_user, action="test.thing")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM staff_auditentry WHERE id = %s", [entry.pk])


def test_an_entry_outlives_the_account_it_names(admin_user):
    gone = UserFactory(email="gone@test.example")
    record(actor=gone, action="test.thing", obj=gone)
    gone.delete()
    entry = AuditEntry.objects.get(action="test.thing")
    assert entry.actor_label == "gone@test.example"


def test_the_django_admin_shows_entries_read_only(rf, admin_user):
    model_admin = admin_site._registry[AuditEntry]
    request = rf.get("/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.get_actions(request) == {}


# --- The audit page ------------------------------------------------------------------------
@pytest.fixture
def history(admin_user, staff_user, alice_user):
    stamps = {
        "old": timezone.make_aware(datetime.datetime(2026, 1, 10, 12, 0)),
        "mid": timezone.make_aware(datetime.datetime(2026, 2, 10, 12, 0)),
        "new": timezone.make_aware(datetime.datetime(2026, 3, 10, 12, 0)),
    }
    entries = [
        AuditEntry(
            created_at=stamps["old"],
            actor=admin_user,
            actor_label=admin_user.email,
            action="staff.create",
            object_type="staff.user",
            object_id=str(staff_user.pk),
            object_repr="Sam Staff",
        ),
        AuditEntry(
            created_at=stamps["mid"],
            actor=staff_user,
            actor_label=staff_user.email,
            action="auth.login",
            object_type="staff.user",
            object_id=str(staff_user.pk),
            object_repr="Sam Staff",
        ),
        AuditEntry(
            created_at=stamps["new"],
            actor=None,
            action="auth.login_failed",
            note="email tried: mallory@test.example",
        ),
        AuditEntry(
            created_at=stamps["new"],
            actor=admin_user,
            actor_label=admin_user.email,
            action="client.update",
            object_type="clients.client",
            object_id="7",
            object_repr="Alice Martin (C-000007)",
            changes={"status": ["prospect", "active"]},
        ),
    ]
    for entry in entries:
        entry.save()
    return entries


def _rows(client, **params) -> str:
    return client.get(reverse("staff:audit_list"), params).content.decode()


@pytest.mark.parametrize(
    ("params", "present", "absent"),
    [
        ({}, ["staff.create", "auth.login_failed", "client.update"], []),
        ({"actor": "staff@"}, ["<code>auth.login</code>"], ["staff.create"]),
        ({"action": "auth."}, ["auth.login_failed", "<code>auth.login</code>"], ["client.update"]),
        ({"action": "auth.login"}, ["<code>auth.login</code>"], ["auth.login_failed"]),
        ({"object_type": "clients.client"}, ["C-000007"], ["staff.create"]),
        (
            {"date_from": "2026-02-01", "date_to": "2026-02-28"},
            ["<code>auth.login</code>"],
            ["staff.create", "client.update"],
        ),
        ({"q": "mallory"}, ["auth.login_failed"], ["staff.create"]),
        # A kind, however it is typed: every action of that kind.
        ({"action": "auth"}, ["auth.login_failed", "<code>auth.login</code>"], ["staff.create"]),
        ({"action": "auth.*"}, ["auth.login_failed", "<code>auth.login</code>"], ["staff.create"]),
        ({"action": " Client.* "}, ["client.update"], ["auth.login_failed", "staff.create"]),
        # One object's history: its type and id.
        (
            {"object_type": "clients.client", "object_id": "7"},
            ["client.update", "History of one object"],
            ["auth.login", "staff.create"],
        ),
        ({"object_type": "clients.client", "object_id": "8"}, ["No entry matches"], ["C-000007"]),
        ({"q": "C-000007"}, ["client.update"], ["auth.login_failed"]),
    ],
)
def test_admins_filter_the_audit_log(login, admin_user, history, params, present, absent):
    page = _rows(login(admin_user), **params)
    for text in present:
        assert text in page, text
    for text in absent:
        assert text not in page.split("<tbody>")[1], text


def test_the_audit_page_shows_before_and_after(login, admin_user, history):
    page = _rows(login(admin_user), object_type="clients.client")
    assert "<del>prospect</del> → <ins>active</ins>" in page


def test_bad_filters_are_explained_not_errors(login, admin_user, history):
    response = login(admin_user).get(
        reverse("staff:audit_list"), {"date_from": "2026-02-30", "date_to": "x", "page": "zz"}
    )
    assert response.status_code == 200
    assert "The filter was not applied" in response.content.decode()


def test_the_audit_page_is_paginated_with_constant_queries(
    login, admin_user, django_assert_max_num_queries
):
    client = login(admin_user)
    client.get(reverse("staff:audit_list"))  # warm up the session
    AuditEntry.objects.bulk_create(AuditEntry(action=f"test.a{n}") for n in range(5))
    with django_assert_max_num_queries(6) as few:
        client.get(reverse("staff:audit_list"))
    AuditEntry.objects.bulk_create(AuditEntry(action=f"test.b{n}") for n in range(120))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("staff:audit_list"), {"page": 2}).content.decode()
    assert "Page 2 of 3" in page


def test_only_admins_see_the_audit_log(login, staff_user, alice_user):
    assert login(staff_user).get(reverse("staff:audit_list")).status_code == 403
    assert login(alice_user).get(reverse("staff:audit_list")).status_code == 403


def test_stored_markup_is_shown_as_text(login, admin_user):
    record(actor=None, action="auth.login_failed", note='email tried: <script>alert("x")</script>')
    page = _rows(login(admin_user))
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page


def test_no_url_edits_or_deletes_entries():
    from cms_project.tests.test_permissions import all_views

    names = [name or "" for name, _, _ in all_views() if "audit" in (name or "")]
    assert sorted(names) == ["staff:audit_export", "staff:audit_list"]  # both GET-only reads
    Client()  # (nothing else to reach: the admin site is read-only, see above)


def test_actions_show_their_readable_labels(login, admin_user, history):
    page = _rows(login(admin_user))
    assert "Edited a client" in page  # clients.apps.AUDIT_ACTIONS
    assert "Added a team member" in page  # staff.audit.ACTIONS
    assert '<option value="invoice.*">' in page  # the kinds offered in the action box


def test_each_entry_links_to_the_history_of_its_object(login, admin_user, history):
    page = _rows(login(admin_user))
    assert "?object_type=clients.client&amp;object_id=7" in page


# --- CSV export ----------------------------------------------------------------------------
def _csv(client, **params) -> list[list[str]]:
    import csv
    import io

    response = client.get(reverse("staff:audit_export"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    assert "no-store" in response["Cache-Control"]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_has_the_filtered_entries_oldest_first(login, admin_user, history):
    rows = _csv(login(admin_user), action="auth.*", date_to="2026-06-30")  # not this log-in
    assert rows[0][:4] == ["when", "who", "action", "action_label"]
    assert [row[2] for row in rows[1:]] == ["auth.login", "auth.login_failed"]
    assert rows[1][0].startswith("2026-02-10T12:00:00")
    assert rows[1][3] == "Logged in"


def test_the_export_keeps_before_and_after_as_json(login, admin_user, history):
    rows = _csv(login(admin_user), object_type="clients.client", object_id="7")
    assert len(rows) == 2
    header, row = rows
    assert dict(zip(header, row, strict=True))["changes"] == '{"status": ["prospect", "active"]}'


def test_the_export_cannot_smuggle_a_spreadsheet_formula(login, admin_user):
    record(actor=None, action="auth.login_failed", note='=HYPERLINK("http://evil")')
    rows = _csv(login(admin_user))
    assert rows[1][8] == '\'=HYPERLINK("http://evil")'


def test_the_export_costs_the_same_queries_at_any_size(
    login, admin_user, django_assert_max_num_queries
):
    client = login(admin_user)
    AuditEntry.objects.bulk_create(AuditEntry(action=f"test.a{n}") for n in range(3))
    with django_assert_max_num_queries(6) as few:
        assert len(_csv(client, action="test")) == 4
    AuditEntry.objects.bulk_create(AuditEntry(action=f"test.b{n}") for n in range(300))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_csv(client, action="test")) == 304


def test_only_admins_export_the_audit_log(login, staff_user, alice_user):
    assert login(staff_user).get(reverse("staff:audit_export")).status_code == 403
    assert login(alice_user).get(reverse("staff:audit_export")).status_code == 403


def test_filtered_pages_cost_the_same_queries_at_two_sizes(
    login, admin_user, django_assert_max_num_queries
):
    client = login(admin_user)
    params = {"action": "client.*", "object_type": "clients.client", "object_id": "7"}
    client.get(reverse("staff:audit_list"))  # warm up the session

    def add(count):
        AuditEntry.objects.bulk_create(
            AuditEntry(action="client.update", object_type="clients.client", object_id="7")
            for _ in range(count)
        )

    add(3)
    with django_assert_max_num_queries(6) as few:
        client.get(reverse("staff:audit_list"), params)
    add(200)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("staff:audit_list"), params).content.decode()
    assert "203 entries" in page


# --- History links from the client and invoice pages ------------------------------------
def test_admins_get_a_history_link_on_client_and_invoice_pages(login, admin_user, staff_user):
    from clients.tests.factories import ClientFactory
    from invoices.tests.factories import issued_invoice

    client = ClientFactory()
    invoice = issued_invoice(client=client)
    client_link = f"?object_type=clients.client&amp;object_id={client.pk}"
    invoice_link = f"?object_type=invoices.invoice&amp;object_id={invoice.pk}"
    admin = login(admin_user)
    assert (
        client_link
        in admin.get(reverse("clients:client_detail", args=[client.pk])).content.decode()
    )
    assert invoice_link in admin.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    staff = login(staff_user)
    assert (
        client_link
        not in staff.get(reverse("clients:client_detail", args=[client.pk])).content.decode()
    )
    assert (
        invoice_link
        not in staff.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    )


def test_the_history_link_lists_what_happened_to_that_invoice(login, admin_user, staff_user):
    from invoices.credit_notes import void_invoice
    from invoices.tests.factories import issued_invoice

    invoice = issued_invoice(issued_by=staff_user)
    void_invoice(invoice=invoice, reason="Duplicate", created_by=admin_user)
    issued_invoice()  # another invoice: not in this history
    page = _rows(login(admin_user), object_type="invoices.invoice", object_id=str(invoice.pk))
    assert "2 entries" in page
    assert "<code>invoice.issue</code>" in page and "<code>invoice.void</code>" in page
