"""Client portal pages of the invoices app (mounted at /portal/invoices/)."""

from django.urls import path

from . import portal_views

app_name = "invoices_portal"

urlpatterns = [
    path("", portal_views.invoice_list, name="list"),
    path("<int:pk>/", portal_views.invoice_detail, name="detail"),
    path("<int:pk>/pdf/", portal_views.invoice_pdf, name="pdf"),
    path("<int:pk>/email/", portal_views.invoice_email, name="email"),
    path("credit-notes/<int:pk>/", portal_views.credit_note_detail, name="credit_note_detail"),
    path("credit-notes/<int:pk>/pdf/", portal_views.credit_note_pdf, name="credit_note_pdf"),
]
