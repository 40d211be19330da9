"""Staff workspace pages of the invoices app (mounted at /staff/invoices/)."""

from django.urls import path

from . import collections_views, payment_views, views

app_name = "invoices"

urlpatterns = [
    path("", views.invoice_list, name="list"),
    path("export.csv", views.invoice_export, name="export"),
    path("new/", views.invoice_create, name="create"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/edit/", views.invoice_edit, name="edit"),
    path("<int:pk>/delete/", views.invoice_delete, name="delete"),
    path("<int:pk>/issue/", views.invoice_issue, name="issue"),
    path("<int:pk>/pdf/", views.invoice_pdf, name="pdf"),
    path("<int:pk>/send/email/", views.invoice_send_email, name="send_email"),
    path("<int:pk>/send/sms/", views.invoice_send_sms, name="send_sms"),
    path("<int:pk>/credit/", views.credit_note_create, name="credit_note_create"),
    path("<int:pk>/void/", views.invoice_void, name="void"),
    path("credit-notes/<int:pk>/", views.credit_note_detail, name="credit_note_detail"),
    path("credit-notes/<int:pk>/pdf/", views.credit_note_pdf, name="credit_note_pdf"),
    path("credit-notes/<int:pk>/send/", views.credit_note_send, name="credit_note_send"),
    path("billing/", views.billing, name="billing"),
    path("billing/runs/<int:pk>/", views.billing_run, name="billing_run"),
    path("billing/runs/<int:pk>/status.json", views.billing_run_status, name="billing_run_status"),
    path(
        "billing/runs/<int:pk>/issue-drafts/",
        views.billing_run_issue_drafts,
        name="billing_run_issue_drafts",
    ),
    path("payments/", payment_views.payment_list, name="payments"),
    path("payments/export.csv", payment_views.payment_export, name="payments_export"),
    path("payments/new/", payment_views.payment_create, name="payment_create"),
    path("payments/<int:pk>/", payment_views.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/receipt/", payment_views.payment_receipt, name="payment_receipt"),
    path(
        "payments/<int:pk>/send-receipt/",
        payment_views.payment_send_receipt,
        name="payment_send_receipt",
    ),
    path("payments/<int:pk>/refund/", payment_views.payment_refund, name="payment_refund"),
    path("payments/<int:pk>/reverse/", payment_views.payment_reverse, name="payment_reverse"),
    # Collections: late payers, reminders by hand, pauses (collections_views.py)
    path("late-payers/", collections_views.late_payers_list, name="late_payers"),
    path("late-payers/export.csv", collections_views.late_payers_export, name="late_payers_export"),
    path("clients/<int:pk>/remind/", collections_views.client_remind, name="client_remind"),
    path(
        "clients/<int:pk>/reminders/pause/",
        collections_views.client_reminders_pause,
        name="client_reminders_pause",
    ),
    path(
        "clients/<int:pk>/reminders/resume/",
        collections_views.client_reminders_resume,
        name="client_reminders_resume",
    ),
    path("<int:pk>/remind/", collections_views.invoice_remind, name="remind"),
    path(
        "<int:pk>/reminders/pause/",
        collections_views.invoice_reminders_pause,
        name="reminders_pause",
    ),
    path(
        "<int:pk>/reminders/resume/",
        collections_views.invoice_reminders_resume,
        name="reminders_resume",
    ),
]
