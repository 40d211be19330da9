"""Background tasks of the invoices app: primary keys in, enqueued after commit."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True)
def render_invoice_pdf_task(invoice_id: int) -> None:
    from .pdf import render_invoice_pdf

    render_invoice_pdf(invoice_id=invoice_id)


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True)
def render_invoice_pdfs_task(invoice_ids: list[int]) -> None:
    """The PDFs of a billing-run batch. Each render skips an invoice whose PDF is stored, so a
    retry (storage hiccup) or a redelivered message resumes where the last attempt stopped."""
    from .pdf import render_invoice_pdf

    for invoice_id in invoice_ids:
        render_invoice_pdf(invoice_id=invoice_id)


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True)
def render_credit_note_pdf_task(credit_note_id: int) -> None:
    from .pdf import render_credit_note_pdf

    render_credit_note_pdf(credit_note_id=credit_note_id)


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True)
def render_receipt_pdf_task(payment_id: int) -> None:
    from .receipts import render_receipt_pdf

    render_receipt_pdf(payment_id=payment_id)


@shared_task(acks_late=False, ignore_result=True)
def run_billing_task(run_id: int) -> None:
    """A run started from the staff page. Not acks_late: a worker lost mid-run must not
    start it over silently; staff see it stopped and re-run the period (which is safe)."""
    from .billing import run_billing
    from .models import BillingRun

    run = BillingRun.objects.get(pk=run_id)
    if run.status != BillingRun.Status.QUEUED:
        return
    try:
        run_billing(year=run.period_year, month=run.period_month, run=run)
    except Exception:
        logger.exception("Billing run %s failed", run_id)  # recorded on the run by run_billing


@shared_task(ignore_result=True)
def monthly_billing_task() -> int:
    """Celery beat, on the 1st of every month: bill the month that just ended."""
    from .billing import previous_month, run_billing

    year, month = previous_month()
    run = run_billing(year=year, month=month)
    return run.pk


@shared_task(ignore_result=True)
def collections_daily_task() -> dict:
    """Celery beat, daily (company time): reminders due today, then suspensions. Safe to run
    any number of times: each (invoice, step) goes out once, each client is suspended once."""
    from .collections import run_collections

    return run_collections()


@shared_task(ignore_result=True)
def rebuild_aging_rows_task() -> int:
    """Age every client for today: asked for by the late payers report when the rows are not
    today's yet (the daily collections run rebuilds them first thing)."""
    from . import aging_rows

    return aging_rows.rebuild()
