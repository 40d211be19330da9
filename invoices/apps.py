from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"

    def ready(self):
        from .allocation import payment_recorded
        from .receipts import on_payment_recorded

        # Receipts: snapshot, PDF and email/SMS for every payment, however it was recorded.
        payment_recorded.connect(on_payment_recorded, dispatch_uid="invoices.receipts")
