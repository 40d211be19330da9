from django.apps import AppConfig

# What this app writes to the audit log, with the labels the audit page shows (collected by
# staff.audit.action_labels() from the AppConfig below). Payments, refunds and reminders add
# theirs here as they are built.
AUDIT_ACTIONS = {
    "invoice.issue": "Issued an invoice",
    "invoice.void": "Voided an invoice (full credit note)",
    "invoice.credit_note": "Issued a credit note",
    "billing_run.start": "Started a billing run",
    "reminder.send": "Sent a payment reminder",
    "reminder.pause": "Paused payment reminders",
    "reminder.resume": "Resumed payment reminders",
    "collections.suspend": "Suspended services for non-payment",
    "collections.restore": "Restored services after payment",
    "checkout.start": "Started an online payment",
    "checkout.failed": "Online payment declined",
}


class InvoicesConfig(AppConfig):
    name = "invoices"
    audit_actions = AUDIT_ACTIONS

    def ready(self):
        from clients import ledger_hooks

        from . import ledger, receivers  # noqa: F401  (connects the signal receivers)
        from .allocation import AUDIT_ACTIONS as PAYMENT_ACTIONS

        # Payments, refunds and reversals label their entries in allocation.py.
        self.audit_actions = {**AUDIT_ACTIONS, **PAYMENT_ACTIONS}
        # The client list, export and page show these figures without importing this app.
        ledger_hooks.register(
            annotate=ledger.with_ledger_sums,
            annotate_page=ledger.with_ledger_figures,
            overdue=ledger.with_overdue_balance,
        )
