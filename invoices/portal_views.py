"""Client portal pages: a client's own invoices and credit notes, their PDFs, and "email me
this invoice". Anything not theirs (or a draft) is a 404, so its existence is not revealed."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from staff.permissions import client_required

from . import sending
from .forms import PortalEmailForm
from .issuing import InvoiceError
from .models import CreditNote, Invoice
from .queries import credit_notes_for_client_user, invoices_for_client_user
from .views import credit_note_pdf_response, invoice_pdf_response


def _get_invoice_for_user(user, pk: int) -> Invoice:
    return get_object_or_404(invoices_for_client_user(user).select_related("client"), pk=pk)


def _get_credit_note_for_user(user, pk: int) -> CreditNote:
    return get_object_or_404(credit_notes_for_client_user(user), pk=pk)


@client_required
@never_cache
def invoice_list(request):
    invoices = invoices_for_client_user(request.user).order_by("-issue_date", "-pk")
    page = Paginator(invoices, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "invoices/portal/invoice_list.html",
        {"page": page, "credit_notes": credit_notes_for_client_user(request.user)[:50]},
    )


@client_required
@never_cache
def invoice_detail(request, pk: int):
    invoice = _get_invoice_for_user(request.user, pk)
    return render(
        request,
        "invoices/portal/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.all(),
            "credit_notes": invoice.credit_notes.all(),
            "email_form": PortalEmailForm(),
        },
    )


@client_required
@never_cache
def invoice_pdf(request, pk: int):
    return invoice_pdf_response(request, _get_invoice_for_user(request.user, pk))


@client_required
@require_POST
def invoice_email(request, pk: int):
    invoice = _get_invoice_for_user(request.user, pk)
    form = PortalEmailForm(request.POST)
    if form.is_valid():
        try:
            delivery = sending.email_invoice_from_portal(
                invoice=invoice,
                user=request.user,
                other_address=form.cleaned_data["other_address"],
            )
        except InvoiceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Invoice {invoice.number} is on its way to {delivery.to}.")
            return redirect("invoices_portal:detail", pk=invoice.pk)
    return render(
        request,
        "invoices/portal/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": invoice.lines.all(),
            "credit_notes": invoice.credit_notes.all(),
            "email_form": form,
        },
        status=400 if form.errors else 200,
    )


@client_required
@never_cache
def credit_note_detail(request, pk: int):
    note = _get_credit_note_for_user(request.user, pk)
    return render(
        request,
        "invoices/portal/credit_note_detail.html",
        {"note": note, "lines": note.lines.all()},
    )


@client_required
@never_cache
def credit_note_pdf(request, pk: int):
    return credit_note_pdf_response(request, _get_credit_note_for_user(request.user, pk))
