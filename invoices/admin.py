"""Django admin for superusers: drafts may be edited; issued invoices, their lines, credit
notes, counters, runs, payments, allocations and refunds are read-only (an issued invoice is a
legal document; the payment ledger is append-only)."""

from django.contrib import admin

from cms_project.money import line_net

from .drafts import recalculate
from .models import (
    Allocation,
    BillingRun,
    BillingRunError,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    NumberCounter,
    Payment,
    Refund,
)


def _all_fields(model) -> list[str]:
    return [field.name for field in model._meta.concrete_fields]


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    fields = ["position", "description", "quantity", "unit_price", "tax_rate", "net"]

    def _editable(self, obj) -> bool:
        return obj is None or obj.is_draft

    def get_readonly_fields(self, request, obj=None):
        return self.fields if not self._editable(obj) else ["net"]

    def has_add_permission(self, request, obj=None):
        return self._editable(obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "client", "status", "issue_date", "due_date", "total", "balance"]
    list_filter = ["status", "source"]
    search_fields = ["number", "client_name", "client__name", "client__account_number"]
    raw_id_fields = ["client", "billing_run"]
    inlines = [InvoiceLineInline]
    # Issuing, numbering, totals and copies are the business of invoices.issuing only.
    _always_readonly = [
        "status",
        "number",
        "issue_date",
        "due_date",
        "net",
        "tax",
        "total",
        "balance",
        "amount_paid",
        "amount_credited",
        "credited_total",
        "tax_breakdown",
        "pdf_path",
        "pdf_rendered_at",
        "issued_at",
        "issued_by",
        "created_by",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_draft:
            return [*_all_fields(Invoice), "balance"]
        return self._always_readonly

    def has_change_permission(self, request, obj=None):
        # Viewing stays possible (has_view_permission); saving an issued invoice does not.
        return obj is None or obj.is_draft

    def has_delete_permission(self, request, obj=None):
        return obj is not None and obj.is_draft

    def save_formset(self, request, form, formset, change):
        # Drafts edited here get their nets and totals from cms_project.money, like anywhere.
        lines = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for invoice_line in lines:
            invoice_line.net = line_net(
                quantity=invoice_line.quantity, unit_price=invoice_line.unit_price
            )
            invoice_line.save()
        recalculate(form.instance)

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        # The bulk delete action would bypass the per-object check (the queryset refuses too).
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyAdmin(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return _all_fields(self.model)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CreditNoteLineInline(admin.TabularInline):
    model = CreditNoteLine
    extra = 0
    fields = ["description", "quantity", "unit_price", "tax_rate", "net"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "invoice", "client", "issue_date", "total"]
    search_fields = ["number", "invoice__number", "client_name"]
    inlines = [CreditNoteLineInline]


@admin.register(NumberCounter)
class NumberCounterAdmin(ReadOnlyAdmin):
    list_display = ["series", "year", "last_number"]


class BillingRunErrorInline(admin.TabularInline):
    model = BillingRunError
    extra = 0
    readonly_fields = ["client", "message", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "created_count", "skipped_count", "error_count"]
    inlines = [BillingRunErrorInline]


# --- Payments: the ledger is append-only; refunds and reversals are made on the payment page.
class AllocationInline(admin.TabularInline):
    model = Allocation
    fk_name = "payment"
    extra = 0
    fields = ["invoice", "amount", "reversal", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["number", "client", "received_on", "method", "amount", "unallocated"]
    list_filter = ["method"]
    search_fields = ["number", "reference", "client__name", "client__account_number"]
    inlines = [AllocationInline]

    def get_readonly_fields(self, request, obj=None):
        return [*_all_fields(Payment), "unallocated"]

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "payment", "credit_note", "invoice", "amount", "reversal"]
    list_filter = ["reversal"]
    search_fields = ["payment__number", "invoice__number"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "payment", "amount", "refunded_on"]
    list_filter = ["kind"]
    search_fields = ["payment__number", "reason"]
