"""Pages that compose every app: the role-based home redirect, the staff workspace home and
the client portal home, plus the branded error pages."""

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.utils import timezone

from clients.queries import client_for_portal_user, locations_with_equipment
from staff.permissions import client_required, public, workspace_required

from . import figures


@public
def home(request):
    """Send each role to its own home after log-in."""
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    if user.works_in_workspace:
        return redirect("workspace_home")
    return redirect("portal_home")


@public
def favicon(request):
    # Browsers ask for /favicon.ico whatever the page says; point them at the real icon.
    # Resolved per request: the hashed static name exists only after collectstatic.
    return redirect(static("img/favicon.svg"), permanent=True)


@public
def health(request):
    """For load balancers: 200 when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@workspace_required
def workspace_home(request):
    today = timezone.localdate()
    period = figures.period_for(request.GET.get("period", ""), today=today)
    data = figures.cached_staff_dashboard(
        period=period, today=today, with_staff_count=request.user.is_admin
    )
    return render(
        request,
        "dashboard/workspace_home.html",
        {"f": data, "charts": figures.chart_data(data), "periods": figures.PERIODS},
    )


@client_required
def portal_home(request):
    client = client_for_portal_user(request.user)
    context = {"client_account": client}
    if client is not None:
        context["client_locations"] = locations_with_equipment(client)
        context["home"] = figures.client_home(client=client, today=timezone.localdate())
    return render(request, "dashboard/portal_home.html", context)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors here: whatever broke may be what they depend on.
    return HttpResponse(loader.get_template("500.html").render(), status=500)
