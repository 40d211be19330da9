"""Signal receivers of the invoices app (connected in apps.py)."""

from django.dispatch import receiver

from .allocation import payment_recorded


@receiver(payment_recorded, dispatch_uid="invoices.lift_suspension_on_payment")
def lift_suspension_on_payment(sender, payment, **kwargs):
    # Inside the payment's transaction, with the client row locked by record_payment: the
    # services come back in the same commit as the payment, whoever recorded it.
    from .suspension import lift_if_cleared

    lift_if_cleared(client=payment.client, payment=payment)


@receiver(payment_recorded, dispatch_uid="invoices.receipts")
def send_receipt_on_payment(sender, payment, **kwargs):
    # After the suspension receiver: the receipt's snapshot, its PDF and its email/SMS (both
    # after commit), for every payment however it was recorded (staff, portal, webhook).
    from .receipts import on_payment_recorded

    on_payment_recorded(sender, payment=payment)
