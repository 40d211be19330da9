"""Statement pages: staff (any client, from the client page) and portal (the client's own),
each as a page, a PDF and a CSV, for an optional date range."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from clients.models import Client
from clients.queries import client_for_portal_user
from staff.permissions import client_required, workspace_required

from .online_forms import StatementRangeForm
from .statement import build_statement, statement_csv, statement_filename, statement_pdf


def _statement(request, client: Client):
    form = StatementRangeForm(request.GET or None)
    start, end = form.range()
    return form, build_statement(client=client, start=start, end=end)


def _download(statement, kind: str) -> HttpResponse:
    if kind == "csv":
        response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    name = statement_filename(statement, kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _page(request, template: str, client: Client, **extra):
    form, statement = _statement(request, client)
    query = request.GET.urlencode() if form.is_valid() else ""
    context = {"form": form, "statement": statement, "client": client, "query": query, **extra}
    return render(request, template, context, status=400 if form.errors else 200)


# --- Staff ----------------------------------------------------------------------------------
def _get_client(pk: int) -> Client:
    return get_object_or_404(Client, pk=pk)


@workspace_required
@never_cache
def client_statement(request, pk: int):
    return _page(request, "invoices/statement.html", _get_client(pk))


@workspace_required
@never_cache
def client_statement_pdf(request, pk: int):
    return _download(_statement(request, _get_client(pk))[1], "pdf")


@workspace_required
@never_cache
def client_statement_csv(request, pk: int):
    return _download(_statement(request, _get_client(pk))[1], "csv")


# --- Portal ---------------------------------------------------------------------------------
@client_required
@never_cache
def portal_statement(request):
    client = client_for_portal_user(request.user)
    if client is None:
        return render(request, "services/portal/no_account.html")
    return _page(request, "invoices/portal/statement.html", client)


@client_required
@never_cache
def portal_statement_pdf(request):
    client = client_for_portal_user(request.user)
    if client is None:
        return render(request, "services/portal/no_account.html")
    return _download(_statement(request, client)[1], "pdf")


@client_required
@never_cache
def portal_statement_csv(request):
    client = client_for_portal_user(request.user)
    if client is None:
        return render(request, "services/portal/no_account.html")
    return _download(_statement(request, client)[1], "csv")
