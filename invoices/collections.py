"""The daily collections run: the late payers' aging rows aged for the new day, reminders,
then suspensions for non-payment (and lifting the ones whose balance was cleared without a
payment). Used by the beat task and by `manage.py send_reminders`."""

from datetime import date

from django.utils import timezone

from . import aging_rows
from .reminders import send_reminders
from .suspension import lift_cleared_suspensions, suspend_overdue_clients


def run_collections(*, today: date | None = None) -> dict:
    today = today or timezone.localdate()
    return {
        "late_payers": aging_rows.rebuild(today),
        "reminders": send_reminders(today=today),
        "suspended": suspend_overdue_clients(today=today),
        "lifted": lift_cleared_suspensions(today=today),
    }
