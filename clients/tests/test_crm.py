"""Interactions (the client's timeline) and follow-up tasks ("my tasks")."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import FollowUpTask, Interaction
from clients.tests.factories import ClientFactory, InteractionFactory, TaskFactory, client_of
from staff.models import AuditEntry, Role
from staff.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CALL = {
    "kind": "call",
    "occurred_at": "2026-03-02T10:30",
    "duration_minutes": "15",
    "subject": "Asked about 1 Gig",
    "notes": "Wants faster upload for work.",
    "outcome": "Quote promised",
    "next_action": "Send the 1 Gig quote",
    "follow_up_due": "",
}


def test_staff_logs_an_interaction_that_appears_on_the_timeline(login, staff_user):
    client = ClientFactory()
    browser = login(staff_user)
    response = browser.post(reverse("clients:interaction_create", args=[client.pk]), CALL)
    assert response.status_code == 302
    call = Interaction.objects.get()
    assert (call.client, call.logged_by, call.duration_minutes) == (client, staff_user, 15)
    page = browser.get(reverse("clients:client_detail", args=[client.pk])).content.decode()
    for text in ("Asked about 1 Gig", "Wants faster upload", "Quote promised", "Send the 1 Gig"):
        assert text in page


def test_the_timeline_shows_the_latest_first(login, staff_user):
    client = ClientFactory()
    now = timezone.now()
    InteractionFactory(client=client, subject="Older", occurred_at=now - timedelta(days=3))
    InteractionFactory(client=client, subject="Newer", occurred_at=now)
    page = login(staff_user).get(reverse("clients:client_detail", args=[client.pk]))
    assert [i.subject for i in page.context["interactions"]] == ["Newer", "Older"]


def test_an_interaction_with_a_follow_up_date_becomes_my_task(login, staff_user):
    client = ClientFactory()
    login(staff_user).post(
        reverse("clients:interaction_create", args=[client.pk]),
        {**CALL, "follow_up_due": "2026-03-05"},
    )
    task = FollowUpTask.objects.get()
    assert (task.title, task.client, task.assignee) == ("Send the 1 Gig quote", client, staff_user)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "fax"}, "kind", "Select a valid choice"),
        ({"subject": ""}, "subject", "This field is required"),
        ({"occurred_at": "soon"}, "occurred_at", "Enter a valid date/time"),
        ({"duration_minutes": "-5"}, "duration_minutes", "greater than or equal to 0"),
        ({"duration_minutes": "2000"}, "duration_minutes", "less than or equal to 1440"),
        ({"next_action": "", "follow_up_due": "2026-03-05"}, "next_action", "Say what"),
    ],
)
def test_interaction_form_rejects_bad_input_next_to_the_field(
    login, staff_user, changes, field, message
):
    client = ClientFactory()
    response = login(staff_user).post(
        reverse("clients:interaction_create", args=[client.pk]), {**CALL, **changes}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Interaction.objects.exists()


def test_my_tasks_lists_only_mine_with_overdue_ones_marked(login, staff_user, admin_user):
    today = timezone.localdate()
    late = TaskFactory(assignee=staff_user, title="Late one", due_date=today - timedelta(days=2))
    TaskFactory(assignee=staff_user, title="Due soon", due_date=today + timedelta(days=2))
    TaskFactory(assignee=admin_user, title="Not mine")
    TaskFactory(assignee=staff_user, title="Finished", status=FollowUpTask.Status.DONE)
    response = login(staff_user).get(reverse("clients:task_list"))
    titles = [t.title for t in response.context["page"]]
    assert titles == ["Late one", "Due soon"]
    html = response.content.decode()
    assert "Overdue" in html and "task-overdue" in html
    assert late.is_overdue


def test_everyones_tasks_and_overdue_filters(login, staff_user, admin_user):
    today = timezone.localdate()
    TaskFactory(assignee=admin_user, title="Admin's late", due_date=today - timedelta(days=1))
    TaskFactory(assignee=staff_user, title="Mine, later", due_date=today + timedelta(days=1))
    browser = login(staff_user)
    everyone = browser.get(reverse("clients:task_list"), {"who": "all", "state": "overdue"})
    assert [t.title for t in everyone.context["page"]] == ["Admin's late"]


def test_staff_adds_a_task_for_a_colleague_about_a_client(login, staff_user, admin_user):
    client = ClientFactory(account_number="C-000777")
    response = login(staff_user).post(
        reverse("clients:task_create"),
        {
            "title": "Check the ONT",
            "assignee": admin_user.pk,
            "due_date": "2026-04-01",
            "priority": "3",
            "client_account": "c-000777",
            "notes": "",
        },
    )
    assert response.status_code == 302
    task = FollowUpTask.objects.get()
    assert (task.client, task.assignee, task.created_by) == (client, admin_user, staff_user)
    assert task.priority == FollowUpTask.Priority.HIGH


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required"),
        ({"due_date": ""}, "due_date", "This field is required"),
        ({"priority": "9"}, "priority", "Select a valid choice"),
        ({"client_account": "C-404404"}, "client_account", "No client has the account number"),
        ({"assignee": "client"}, "assignee", "Select a valid choice"),
    ],
)
def test_task_form_rejects_bad_input_next_to_the_field(
    login, staff_user, alice_user, changes, field, message
):
    data = {"title": "Call", "assignee": staff_user.pk, "due_date": "2026-04-01", "priority": "2"}
    data.update(changes)
    if data["assignee"] == "client":
        data["assignee"] = alice_user.pk  # clients are never assignees
    response = login(staff_user).post(reverse("clients:task_create"), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not FollowUpTask.objects.exists()


def test_inactive_staff_cannot_be_assigned(login, staff_user):
    gone = UserFactory(role=Role.STAFF, is_active=False)
    response = login(staff_user).post(
        reverse("clients:task_create"),
        {"title": "x", "assignee": gone.pk, "due_date": "2026-04-01", "priority": "2"},
    )
    assert "assignee" in response.context["form"].errors


def test_completing_a_task_can_log_an_interaction(login, staff_user):
    task = TaskFactory(assignee=staff_user, title="Send the quote")
    response = login(staff_user).post(
        reverse("clients:task_complete", args=[task.pk]),
        {
            "log_interaction": "on",
            "kind": "email",
            "subject": "Quote sent",
            "notes": "1 Gig at $80",
            "outcome": "Will decide Friday",
            "duration_minutes": "10",
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.DONE and task.completed_at is not None
    logged = Interaction.objects.get()
    assert (logged.client, logged.kind, logged.subject, logged.logged_by) == (
        task.client,
        "email",
        "Quote sent",
        staff_user,
    )


def test_completing_a_task_without_logging_adds_no_interaction(login, staff_user):
    task = TaskFactory(assignee=staff_user)
    login(staff_user).post(reverse("clients:task_complete", args=[task.pk]), {"kind": "call"})
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.DONE
    assert not Interaction.objects.exists()


def test_a_task_without_a_client_is_simply_completed(login, staff_user):
    task = TaskFactory(assignee=staff_user, client=None)
    login(staff_user).post(reverse("clients:task_complete", args=[task.pk]))
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.DONE


def test_reopening_a_task_clears_its_completion_time(login, staff_user):
    task = TaskFactory(assignee=staff_user, status="done", completed_at=timezone.now())
    login(staff_user).post(
        reverse("clients:task_edit", args=[task.pk]),
        {
            "title": task.title,
            "assignee": staff_user.pk,
            "due_date": "2026-04-01",
            "priority": "2",
            "status": "open",
            "client_account": task.client.account_number,
        },
    )
    task.refresh_from_db()
    assert task.status == "open" and task.completed_at is None


def test_clients_cannot_reach_tasks_or_interactions(login, alice_user):
    task = TaskFactory()
    browser = login(alice_user)
    assert browser.get(reverse("clients:task_list")).status_code == 403
    assert browser.post(reverse("clients:task_complete", args=[task.pk])).status_code == 403
    assert (
        browser.post(reverse("clients:interaction_create", args=[task.client_id]), CALL).status_code
        == 403
    )


# --- Correcting and deleting logged interactions ---------------------------------------------
def test_staff_correct_an_interaction_and_the_audit_log_keeps_the_old_text(
    login, staff_user, admin_user
):
    call = InteractionFactory(logged_by=admin_user, subject="Asked aboot 1 Gig", notes="Typo")
    browser = login(staff_user)
    page = browser.get(reverse("clients:client_detail", args=[call.client_id])).content.decode()
    edit_url = reverse("clients:interaction_edit", args=[call.pk])
    assert f'href="{edit_url}"' in page
    assert reverse("clients:interaction_delete", args=[call.pk]) not in page  # admins only
    form = browser.get(edit_url)
    assert "follow_up_due" not in form.context["form"].fields  # logging makes tasks, not edits
    response = browser.post(edit_url, {**CALL, "subject": "Asked about 1 Gig"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/clients/{call.client_id}/#timeline")
    call.refresh_from_db()
    assert (call.subject, call.notes, call.logged_by) == (
        "Asked about 1 Gig", CALL["notes"], admin_user,
    )  # fmt: skip
    assert not FollowUpTask.objects.exists()
    entry = AuditEntry.objects.get(action="interaction.update")
    assert entry.actor == staff_user
    assert entry.changes["subject"] == ["Asked aboot 1 Gig", "Asked about 1 Gig"]
    assert entry.changes["notes"] == ["Typo", CALL["notes"]]
    assert entry.note == f"Client {call.client.account_number}"


def test_an_edit_with_bad_input_answers_next_to_the_field_and_changes_nothing(login, staff_user):
    call = InteractionFactory(subject="Kept")
    response = login(staff_user).post(
        reverse("clients:interaction_edit", args=[call.pk]),
        {**CALL, "subject": "", "duration_minutes": "-5", "occurred_at": "2026-02-30T10:00"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"subject", "duration_minutes", "occurred_at"}
    call.refresh_from_db()
    assert call.subject == "Kept"


def test_only_admins_delete_an_interaction_and_the_audit_log_keeps_it(
    login, staff_user, admin_user
):
    call = InteractionFactory(subject="Logged on the wrong client")
    url = reverse("clients:interaction_delete", args=[call.pk])
    assert login(staff_user).post(url).status_code == 403
    assert Interaction.objects.filter(pk=call.pk).exists()
    browser = login(admin_user)
    assert "Logged on the wrong client" in browser.get(url).content.decode()
    response = browser.post(url)
    assert response["Location"].endswith(f"/clients/{call.client_id}/#timeline")
    assert not Interaction.objects.filter(pk=call.pk).exists()
    entry = AuditEntry.objects.get(action="interaction.delete")
    assert (entry.actor, entry.changes["subject"]) == (
        admin_user, ["Logged on the wrong client", None],
    )  # fmt: skip


def test_clients_cannot_edit_or_delete_interactions_even_their_own(login, alice_user):
    call = InteractionFactory(client=client_of(alice_user), subject="Kept")
    browser = login(alice_user)
    for name in ("clients:interaction_edit", "clients:interaction_delete"):
        url = reverse(name, args=[call.pk])
        assert browser.get(url).status_code == 403
        assert browser.post(url, {**CALL, "subject": "Changed"}).status_code == 403
    call.refresh_from_db()
    assert call.subject == "Kept"
