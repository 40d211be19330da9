"""The audit log in the browser (admins): filter, search, page through, export. Read-only."""

import csv
import datetime
import json

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from .audit import action_kinds, action_labels
from .forms import AuditFilterForm
from .models import AuditEntry
from .permissions import admin_required
from .security import no_store

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
EXPORT_COLUMNS = [
    "when",
    "who",
    "action",
    "action_label",
    "object_type",
    "object_id",
    "object",
    "changes",
    "note",
    "ip_address",
]


def filtered_entries(form: AuditFilterForm):
    """The entries the filter form asks for (all of them if the form is invalid: the page
    says the filter was not applied). Every filter is a plain indexed column, so the page
    costs the same two queries (count, rows) whatever is asked."""
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
    action, is_prefix = data["action"]
    if action:
        entries = (
            entries.filter(action__startswith=action)
            if is_prefix
            else entries.filter(action=action)
        )
    if data["object_type"]:
        entries = entries.filter(object_type=data["object_type"])
    if data["object_id"]:
        entries = entries.filter(object_id=data["object_id"])
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
    labels = action_labels()
    for entry in page:
        entry.label = labels.get(entry.action, "")
    query = request.GET.copy()
    query.pop("page", None)
    one_object = (
        form.is_valid() and form.cleaned_data["object_type"] and form.cleaned_data["object_id"]
    )
    return render(
        request,
        "staff/audit_list.html",
        {
            "form": form,
            "page": page,
            "actions": labels,
            "kinds": action_kinds(),
            "query_string": query.urlencode(),
            "one_object": bool(one_object),
        },
    )


def _cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: a value starting with =, +, - or @ (an email
    typed at log-in, an object's name) would otherwise run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _rows(entries, labels: dict[str, str]):
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    tz = timezone.get_current_timezone()
    for entry in entries.iterator(chunk_size=EXPORT_CHUNK):
        yield writer.writerow(
            [
                _cell(value)
                for value in (
                    timezone.localtime(entry.created_at, tz).isoformat(timespec="seconds"),
                    entry.actor_label,
                    entry.action,
                    labels.get(entry.action, ""),
                    entry.object_type,
                    entry.object_id,
                    entry.object_repr,
                    json.dumps(entry.changes, ensure_ascii=False, sort_keys=True)
                    if entry.changes
                    else "",
                    entry.note,
                    entry.ip_address or "",
                )
            ]
        )


@admin_required
@no_store
def audit_export(request):
    """The filtered log as CSV, streamed in chunks (any size, flat memory)."""
    form = AuditFilterForm(request.GET or None)
    entries = filtered_entries(form).order_by("created_at", "pk")
    name = f"audit-log-{timezone.localdate():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(
        _rows(entries, action_labels()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
