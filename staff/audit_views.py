"""The audit log in the browser (admins): filter, search, page through. Read-only."""

import datetime

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from .audit import ACTIONS
from .forms import AuditFilterForm
from .models import AuditEntry
from .permissions import admin_required
from .security import no_store

PAGE_SIZE = 50


def filtered_entries(form: AuditFilterForm):
    entries = AuditEntry.objects.all()
    if not form.is_valid():
        return entries
    data = form.cleaned_data
    if data["q"]:
        q = data["q"]
        entries = entries.filter(
            Q(object_repr__icontains=q)
            | Q(note__icontains=q)
            | Q(actor_label__icontains=q)
            | Q(object_id=q)
        )
    if data["actor"]:
        entries = entries.filter(actor_label__icontains=data["actor"])
    if data["action"]:
        action = data["action"].strip().lower()
        # "auth." (ending with a dot) means every action of that kind.
        entries = (
            entries.filter(action__startswith=action)
            if action.endswith(".")
            else entries.filter(action=action)
        )
    if data["object_type"]:
        entries = entries.filter(object_type=data["object_type"])
    tz = timezone.get_current_timezone()
    if data["date_from"]:
        start = datetime.datetime.combine(data["date_from"], datetime.time.min, tzinfo=tz)
        entries = entries.filter(created_at__gte=start)
    if data["date_to"]:
        end = datetime.datetime.combine(
            data["date_to"] + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
        )
        entries = entries.filter(created_at__lt=end)
    return entries


@admin_required
@no_store
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    page = Paginator(filtered_entries(form), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/audit_list.html",
        {
            "form": form,
            "page": page,
            "actions": ACTIONS,
        },
    )
