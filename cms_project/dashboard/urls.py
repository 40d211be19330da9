"""Staff reports (mounted at /staff/reports/)."""

from django.urls import path

from . import report_views

app_name = "reports"
urlpatterns = [
    path("", report_views.report_index, name="index"),
    path("<slug:name>/", report_views.report_page, name="report"),
    path("<slug:name>.csv", report_views.report_csv, name="report_csv"),
]
