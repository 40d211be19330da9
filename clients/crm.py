"""Interactions with clients and follow-up tasks (the CRM side of the clients app)."""

from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from staff.audit import diff, record, removed, snapshot
from staff.models import User

from .models import Client, FollowUpTask, Interaction


@transaction.atomic
def log_interaction(
    *,
    interaction: Interaction,
    client: Client,
    by: User,
    follow_up_due: date | None = None,
) -> Interaction:
    """Record an interaction; with a due date, its next action also becomes a task for the
    person who logged it, so it is not forgotten."""
    interaction.client = client
    interaction.logged_by = by
    interaction.save()
    if follow_up_due and interaction.next_action:
        FollowUpTask.objects.create(
            title=interaction.next_action,
            client=client,
            assignee=by,
            due_date=follow_up_due,
            created_by=by,
            notes=f"Follow-up of “{interaction.subject}”.",
        )
    return interaction


# What staff fill in about an interaction (the form's fields), and what the audit log keeps of
# one edited or deleted afterwards.
INTERACTION_FIELDS = [
    "kind",
    "occurred_at",
    "duration_minutes",
    "subject",
    "notes",
    "outcome",
    "next_action",
]


@transaction.atomic
def edit_interaction(
    *, interaction: Interaction, by: User, request: HttpRequest | None = None
) -> Interaction:
    """Save corrections to a logged interaction (who logged it stays). Audited with the values
    before and after, so the timeline can be fixed without losing what it said."""
    previous = Interaction.objects.select_for_update().get(pk=interaction.pk)
    interaction.save()
    changes = diff(snapshot(previous, INTERACTION_FIELDS), interaction, INTERACTION_FIELDS)
    if changes:
        record(
            actor=by,
            action="interaction.update",
            obj=interaction,
            changes=changes,
            request=request,
            note=f"Client {interaction.client.account_number}",
        )
    return interaction


@transaction.atomic
def delete_interaction(
    *, interaction: Interaction, by: User, request: HttpRequest | None = None
) -> None:
    """Remove an interaction logged by mistake; the audit entry keeps what it said."""
    record(
        actor=by,
        action="interaction.delete",
        obj=interaction,
        changes=removed(interaction, INTERACTION_FIELDS),
        request=request,
        note=f"Client {interaction.client.account_number}",
    )
    interaction.delete()


@transaction.atomic
def save_task(*, task: FollowUpTask, by: User) -> FollowUpTask:
    if task.pk is None:
        task.created_by = by
    # Keep completed_at in step with the status, whichever way the status was changed.
    if task.status == FollowUpTask.Status.DONE and task.completed_at is None:
        task.completed_at = timezone.now()
    elif task.status != FollowUpTask.Status.DONE:
        task.completed_at = None
    task.save()
    return task


@transaction.atomic
def complete_task(*, task: FollowUpTask, by: User, interaction: dict | None = None) -> FollowUpTask:
    """Mark a task done; `interaction` (kind, subject, notes, outcome, duration_minutes) logs
    what was done on the client's timeline in the same transaction."""
    task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    task.status = FollowUpTask.Status.DONE
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "completed_at"])
    if interaction and task.client_id:
        Interaction.objects.create(client_id=task.client_id, logged_by=by, **interaction)
    return task


def tasks_for(*, user: User, who: str = "mine", state: str = "open") -> QuerySet:
    """The task list: mine or everyone's; open, overdue, done or all. Open first by due date."""
    tasks = FollowUpTask.objects.select_related("client", "assignee")
    if who != "all":
        tasks = tasks.filter(assignee=user)
    today = timezone.localdate()
    if state == "open":
        tasks = tasks.filter(status__in=FollowUpTask.OPEN_STATUSES)
    elif state == "overdue":
        tasks = tasks.filter(status__in=FollowUpTask.OPEN_STATUSES, due_date__lt=today)
    elif state == "done":
        tasks = tasks.filter(status=FollowUpTask.Status.DONE).order_by("-completed_at", "-pk")
    return tasks
