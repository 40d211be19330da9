"""Staff reports: an index, each report's page and its CSV export (the same rows)."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from clients.exporting import csv_response, dated
from cms_project.pagination import EstimatedCountPaginator, KnownCountPaginator
from staff.permissions import workspace_required

from . import reports
from .forms import ReportFilterForm

ACCOUNTS_PAGE_SIZE = 50


def _kind(name: str) -> reports.ReportKind:
    kind = reports.REPORTS.get(name)
    if kind is None:
        raise Http404("No such report")
    return kind


def _filters(request, kind: reports.ReportKind) -> tuple[ReportFilterForm, reports.Filters]:
    today = timezone.localdate()
    default = reports.default_range(today)
    form = ReportFilterForm(request.GET or None, fields=kind.fields, default_range=default)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = reports.Filters(
        first=data.get("first") or default[0],
        last=data.get("last") or default[1],
        limit=data.get("limit") or 10,
        status=data.get("status", ""),
        segment=data.get("segment", ""),
        q=data.get("q", ""),
    )
    return form, filters


@workspace_required
def report_index(request):
    return render(request, "dashboard/reports/index.html", {"reports": reports.REPORTS.values()})


@workspace_required
def report_page(request, name: str):
    kind = _kind(name)
    form, filters = _filters(request, kind)
    context = {"kind": kind, "form": form, "filters": filters, "query": request.GET.urlencode()}
    if kind.build is None:  # the full account report pages through every client
        # Unfiltered on a big table: the planner's estimate, as the invoice list shows.
        counted = EstimatedCountPaginator(reports.account_matches(filters), ACCOUNTS_PAGE_SIZE)
        page = KnownCountPaginator(
            reports.account_clients(filters), ACCOUNTS_PAGE_SIZE, count=counted.count
        ).get_page(request.GET.get("page"))
        context.update(
            page=page,
            count_is_estimated=counted.count_is_estimated,
            headers=reports.ACCOUNT_HEADERS,
            rows=reports.account_rows_for(list(page)),
            money_columns=reports.ACCOUNT_MONEY,
        )
        return render(request, "dashboard/reports/accounts.html", context)
    context["report"] = kind.build(filters)
    return render(request, "dashboard/reports/report.html", context)


@workspace_required
def report_csv(request, name: str):
    kind = _kind(name)
    _, filters = _filters(request, kind)
    if kind.build is None:
        rows = reports.account_rows(filters)
    else:
        rows = reports.csv_rows(kind.build(filters))
    return csv_response(dated(f"report-{kind.slug}"), rows)
