"""Where the `invoices` URL namespace is mounted (cms_project/urls.py includes this at the
root): the staff pages of invoices/urls.py under /staff/invoices/, and the pages the team
names `invoices:portal_*` (paying online, the statement) under /portal/, plus the payment
providers' webhooks. The older portal pages keep their own namespace (`invoices_portal`)."""

from django.urls import include, path

from . import online_views, payment_views, statement_views
from .urls import urlpatterns as staff_patterns

app_name = "invoices"

portal_patterns = [
    path("pay/", online_views.portal_pay, name="portal_pay"),
    path("pay/<uuid:public_id>/", online_views.portal_checkout, name="portal_checkout"),
    path(
        "pay/<uuid:public_id>/return/",
        online_views.portal_checkout_return,
        name="portal_checkout_return",
    ),
    path(
        "pay/<uuid:public_id>/test-card/",
        online_views.portal_sandbox_pay,
        name="portal_sandbox_pay",
    ),
    path("statement/", statement_views.portal_statement, name="portal_statement"),
    path("statement/pdf/", statement_views.portal_statement_pdf, name="portal_statement_pdf"),
    path("statement/csv/", statement_views.portal_statement_csv, name="portal_statement_csv"),
    path("payments/", payment_views.portal_payment_list, name="portal_payments"),
    path(
        "payments/<int:pk>/receipt/",
        payment_views.portal_payment_receipt,
        name="portal_payment_receipt",
    ),
]

statement_patterns = [
    path("", statement_views.client_statement, name="client_statement"),
    path("pdf/", statement_views.client_statement_pdf, name="client_statement_pdf"),
    path("csv/", statement_views.client_statement_csv, name="client_statement_csv"),
]

urlpatterns = [
    path("staff/invoices/", include(staff_patterns)),
    path("staff/invoices/statements/<int:pk>/", include(statement_patterns)),
    path("portal/", include(portal_patterns)),
    path("payments/stripe/webhook/", online_views.stripe_webhook, name="stripe_webhook"),
]
