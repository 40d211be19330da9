"""Staff workspace pages: the catalog, prices, subscriptions and a client's monthly bill."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.models import Client, ServiceLocation
from staff.permissions import admin_required, workspace_required

from . import catalog, subscriptions
from .announcements import announcement_blocker, request_announcement
from .forms import (
    ActivateForm,
    CancelForm,
    CatalogFilterForm,
    ChangeSubscriptionForm,
    LocationSearchForm,
    MonthForm,
    NewServiceForm,
    NewSubscriptionForm,
    PriceChangeForm,
    ServiceForm,
    SubscriptionFilterForm,
)
from .models import Service, ServicePrice, Subscription
from .monthly_bill import monthly_bill

PAGE_SIZE = 50


def _get_service(pk: int) -> Service:
    return get_object_or_404(Service, pk=pk)


def _get_subscription(pk: int) -> Subscription:
    return get_object_or_404(
        Subscription.objects.select_related("service", "location", "location__client", "equipment"),
        pk=pk,
    )


def _get_location(pk: int) -> ServiceLocation:
    return get_object_or_404(ServiceLocation.objects.select_related("client"), pk=pk)


def _day(day) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _add_errors(form, exc: ValidationError) -> None:
    """Put a domain error next to its field when the form has it, else at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- Catalog --------------------------------------------------------------------------------
@workspace_required
def catalog_list(request):
    filters = CatalogFilterForm(request.GET or None)
    services = catalog.catalog_for_staff()
    if filters.is_valid():
        if filters.cleaned_data["category"]:
            services = services.filter(category=filters.cleaned_data["category"])
        if filters.cleaned_data["state"]:
            services = services.filter(is_active=filters.cleaned_data["state"] == "active")
    page = Paginator(services, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "services/catalog_list.html", {"page": page, "filters": filters})


@workspace_required
def service_create(request):
    form = NewServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service = catalog.create_service(
                service=form.save(commit=False),
                price=form.cleaned_data["price"],
                effective_from=form.cleaned_data["price_effective_from"],
                created_by=request.user,
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"“{service.name}” was added to the catalog.")
            return redirect("services:service_detail", pk=service.pk)
    return render(request, "services/service_form.html", {"form": form, "creating": True})


def _render_service(request, service: Service, *, price_form=None, status=200):
    today = timezone.localdate()
    prices = list(service.prices.select_related("created_by").order_by("-effective_from"))
    in_effect = next((price for price in prices if price.effective_from <= today), None)
    counts = {
        status_value: service.subscriptions.filter(status=status_value).count()
        for status_value in Subscription.Status.values
    }
    return render(
        request,
        "services/service_detail.html",
        {
            "service": service,
            "prices": prices,
            "current_price": in_effect.amount if in_effect else None,
            "current_price_pk": in_effect.pk if in_effect else None,
            "today": today,
            "price_form": price_form or PriceChangeForm(),
            "counts": counts,
            "deletion_blocker": catalog.deletion_blocker(service),
            "announcement": getattr(service, "announcement", None),
            "announcement_blocker": announcement_blocker(service),
        },
        status=status,
    )


@workspace_required
def service_detail(request, pk: int):
    return _render_service(request, _get_service(pk))


@workspace_required
def service_edit(request, pk: int):
    service = _get_service(pk)
    form = ServiceForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.update_service(
                service=form.save(commit=False), by=request.user, request=request
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"“{service.name}” was saved.")
            return redirect("services:service_detail", pk=service.pk)
    return render(request, "services/service_form.html", {"form": form, "service": service})


@workspace_required
@require_POST
def service_price(request, pk: int):
    service = _get_service(pk)
    form = PriceChangeForm(request.POST)
    if form.is_valid():
        try:
            price = catalog.set_price(
                service=service,
                amount=form.cleaned_data["amount"],
                effective_from=form.cleaned_data["effective_from"],
                changed_by=request.user,
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                f"New price of “{service.name}” from {_day(price.effective_from)}.",
            )
            return redirect("services:service_detail", pk=service.pk)
    return _render_service(request, service, price_form=form)


@workspace_required
@require_POST
def price_withdraw(request, pk: int, price_pk: int):
    service = _get_service(pk)
    price = get_object_or_404(ServicePrice, pk=price_pk, service=service)
    try:
        catalog.withdraw_scheduled_price(price=price, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The scheduled price was withdrawn.")
    return redirect("services:service_detail", pk=service.pk)


@workspace_required
@require_POST
def service_deactivate(request, pk: int):
    service = catalog.deactivate_service(service=_get_service(pk), by=request.user, request=request)
    messages.success(
        request,
        f"“{service.name}” is inactive: no new subscriptions; existing ones run on until "
        "cancelled.",
    )
    return redirect("services:service_detail", pk=service.pk)


@workspace_required
@require_POST
def service_reactivate(request, pk: int):
    service = _get_service(pk)
    try:
        catalog.reactivate_service(service=service, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{service.name}” is active again.")
    return redirect("services:service_detail", pk=service.pk)


@admin_required
@require_POST
def service_delete(request, pk: int):
    service = _get_service(pk)
    try:
        catalog.delete_service(service=service, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("services:service_detail", pk=service.pk)
    messages.success(request, f"“{service.name}” was deleted.")
    return redirect("services:catalog")


@workspace_required
@require_POST
def service_announce(request, pk: int):
    service = _get_service(pk)
    try:
        request_announcement(service=service, requested_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"“{service.name}” is being announced to clients who agreed to hear about new "
            "services (SMS and email).",
        )
    return redirect("services:service_detail", pk=service.pk)


# --- Subscriptions --------------------------------------------------------------------------
@workspace_required
def subscription_list(request):
    filters = SubscriptionFilterForm(request.GET or None)
    rows = Subscription.objects.select_related("service", "location", "location__client")
    if filters.is_valid():
        data = filters.cleaned_data
        if data["service"]:
            rows = rows.filter(service=data["service"])
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if data["city"].strip():
            rows = rows.filter(location__city__iexact=data["city"].strip())
    page = Paginator(rows.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "services/subscription_list.html", {"page": page, "filters": filters})


@workspace_required
def location_search(request):
    """Pick the location to add a service to (the client page links straight to the form)."""
    search = LocationSearchForm(request.GET or None)
    results = None
    if search.is_valid() and search.cleaned_data["q"].strip():
        q = search.cleaned_data["q"].strip()
        results = (
            ServiceLocation.objects.select_related("client")
            .filter(
                Q(client__name__icontains=q)
                | Q(client__company_name__icontains=q)
                | Q(client__account_number__iexact=q)
                | Q(street__icontains=q)
                | Q(city__iexact=q)
            )
            .order_by("client__name", "label", "pk")[:25]
        )
    return render(request, "services/location_search.html", {"search": search, "results": results})


@workspace_required
def subscription_create(request, location_pk: int):
    location = _get_location(location_pk)
    form = NewSubscriptionForm(request.POST or None, location=location)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription = subscriptions.subscribe(
                service=data["service"],
                location=location,
                quantity=data["quantity"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                status=data["status"],
                agreed_price=data["agreed_price"],
                agreed_price_until=data["agreed_price_until"],
                equipment=data["equipment"],
                created_by=request.user,
                request=request,
            )
        except subscriptions.DuplicateSubscriptionError as exc:
            form.add_error("service", exc)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{subscription} was added.")
            return redirect("services:subscription_detail", pk=subscription.pk)
    existing = subscriptions.subscriptions_of_client(location.client).filter(location=location)
    return render(
        request,
        "services/subscription_form.html",
        {"form": form, "location": location, "existing": existing},
    )


def _render_subscription(request, subscription: Subscription, **forms):
    today = timezone.localdate()
    unit_price, agreed = subscriptions.subscription_unit_price(subscription=subscription, on=today)
    context = {
        "subscription": subscription,
        "unit_price": unit_price,
        "agreed_in_force": agreed,
        "change_form": forms.get("change_form")
        or ChangeSubscriptionForm(subscription=subscription),
        "activate_form": forms.get("activate_form") or ActivateForm(),
        "cancel_form": forms.get("cancel_form")
        or CancelForm(default=subscriptions.default_cancellation_date(today)),
    }
    return render(request, "services/subscription_detail.html", context)


@workspace_required
def subscription_detail(request, pk: int):
    return _render_subscription(request, _get_subscription(pk))


@workspace_required
@require_POST
def subscription_change(request, pk: int):
    subscription = _get_subscription(pk)
    form = ChangeSubscriptionForm(request.POST, subscription=subscription)
    if form.is_valid():
        try:
            subscriptions.change_subscription(
                subscription=subscription, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):  # e.g. the subscription is no longer open
                messages.error(request, " ".join(exc.messages))
                return redirect("services:subscription_detail", pk=subscription.pk)
            _add_errors(form, exc)
        else:
            messages.success(request, "The subscription was changed.")
            return redirect("services:subscription_detail", pk=subscription.pk)
    # Re-read: a refused save must not show half-applied values.
    return _render_subscription(request, _get_subscription(pk), change_form=form)


@workspace_required
@require_POST
def subscription_activate(request, pk: int):
    subscription = _get_subscription(pk)
    form = ActivateForm(request.POST)
    if form.is_valid():
        try:
            subscriptions.activate_subscription(
                subscription=subscription,
                start_date=form.cleaned_data["start_date"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):  # e.g. the subscription is no longer open
                messages.error(request, " ".join(exc.messages))
                return redirect("services:subscription_detail", pk=subscription.pk)
            _add_errors(form, exc)
        else:
            messages.success(request, f"{subscription} is active.")
            return redirect("services:subscription_detail", pk=subscription.pk)
    return _render_subscription(request, subscription, activate_form=form)


@workspace_required
@require_POST
def subscription_suspend(request, pk: int):
    return _simple_transition(
        request,
        pk,
        subscriptions.suspend_subscription,
        "is suspended: it is not billed until resumed.",
    )


@workspace_required
@require_POST
def subscription_resume(request, pk: int):
    return _simple_transition(request, pk, subscriptions.resume_subscription, "is active again.")


def _simple_transition(request, pk: int, change, done: str):
    subscription = _get_subscription(pk)
    try:
        change(subscription=subscription, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{subscription} {done}")
    return redirect("services:subscription_detail", pk=subscription.pk)


@workspace_required
@require_POST
def subscription_cancel(request, pk: int):
    subscription = _get_subscription(pk)
    form = CancelForm(
        request.POST, default=subscriptions.default_cancellation_date(timezone.localdate())
    )
    if form.is_valid():
        try:
            subscriptions.cancel_subscription(
                subscription=subscription,
                effective_date=form.cleaned_data["effective_date"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):  # e.g. the subscription is no longer open
                messages.error(request, " ".join(exc.messages))
                return redirect("services:subscription_detail", pk=subscription.pk)
            _add_errors(form, exc)
        else:
            if subscription.status == Subscription.Status.CANCELLED:
                messages.success(request, f"{subscription} is cancelled.")
            else:
                messages.success(
                    request,
                    f"{subscription} ends on {_day(subscription.end_date)} (its last billed day).",
                )
            return redirect("services:subscription_detail", pk=subscription.pk)
    return _render_subscription(request, subscription, cancel_form=form)


# --- The monthly bill -------------------------------------------------------------------------
@workspace_required
def client_bill(request, client_pk: int):
    client = get_object_or_404(Client, pk=client_pk)
    year, month = MonthForm(request.GET).period(timezone.localdate())
    bill = monthly_bill(client=client, year=year, month=month)
    return render(request, "services/client_bill.html", {"client": client, "bill": bill})
