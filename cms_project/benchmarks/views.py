"""The floor of GUIDE §5: the cheapest logged-in page that does the work of a list page (a
COUNT and 50 rows). Served only under the bench URLconf (`cms_project.settings.bench`), never
in production; each page's p95 is reported as a ratio to this one's, measured in the same run."""

from django.shortcuts import render

from clients.models import Client
from staff.permissions import workspace_required

FLOOR_ROWS = 50


@workspace_required
def floor(request):
    clients = Client.objects.order_by("pk").only("pk", "account_number", "name")[:FLOOR_ROWS]
    return render(
        request,
        "benchmarks/floor.html",
        {"count": Client.objects.count(), "clients": clients},
    )
