"""The delivery log (staff), the SMS outbox (admins) and Twilio's inbound-SMS webhook."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from cms_project.redirects import safe_next_url
from staff.permissions import admin_required, public, workspace_required

from .forms import DeliveryFilterForm, OutboxSearchForm
from .models import Delivery, OutboxMessage
from .optout import apply_inbound_keyword
from .queries import known_purposes, search_deliveries
from .sending import DeliveryError, resend

logger = logging.getLogger(__name__)
PAGE_SIZE = 50


@workspace_required
def delivery_list(request):
    form = DeliveryFilterForm(request.GET or None, purposes=known_purposes())
    filters = form.cleaned_data if form.is_valid() else {}
    deliveries = search_deliveries(
        channel=filters.get("channel", ""),
        status=filters.get("status", ""),
        purpose=filters.get("purpose", ""),
        q=filters.get("q", "").strip(),
    ).prefetch_related("related")
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "messaging/delivery_list.html", {"form": form, "page": page})


@workspace_required
def delivery_detail(request, pk: int):
    delivery = get_object_or_404(
        Delivery.objects.select_related("requested_by", "resent_from"), pk=pk
    )
    return render(
        request,
        "messaging/delivery_detail.html",
        {"delivery": delivery, "resends": delivery.resends.order_by("-created_at")},
    )


@workspace_required
@require_POST
def delivery_resend(request, pk: int):
    delivery = get_object_or_404(Delivery, pk=pk)
    try:
        copy = resend(delivery=delivery, by=request.user)
    except DeliveryError as exc:
        messages.error(request, str(exc))
    else:
        if copy is None:
            messages.error(request, f"{delivery.to} has opted out of SMS; nothing was sent.")
        else:
            messages.success(request, f"A copy was queued to {copy.to}.")
    target = safe_next_url(request, request.POST.get("next", ""))
    return redirect(target or "messaging:delivery_list")


@admin_required
def outbox(request):
    form = OutboxSearchForm(request.GET or None)
    sms = OutboxMessage.objects.all()
    if form.is_valid() and form.cleaned_data["q"].strip():
        sms = sms.filter(to__icontains=form.cleaned_data["q"].strip())
    page = Paginator(sms, PAGE_SIZE).get_page(request.GET.get("page"))
    using_outbox = settings.SMS_BACKEND == settings.OUTBOX_SMS_BACKEND
    return render(
        request,
        "messaging/outbox.html",
        {"form": form, "page": page, "using_outbox": using_outbox},
    )


# An empty TwiML answer: reply with nothing (Twilio's opt-out handling sends its own notice).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@public
@csrf_exempt  # Twilio cannot send a CSRF token; the request signature authenticates it.
@require_POST
def twilio_inbound(request):
    """Inbound SMS: STOP-style keywords opt the sender out, START/UNSTOP opt back in."""
    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        return HttpResponseForbidden("Twilio is not configured.")
    url = settings.TWILIO_INBOUND_URL or request.build_absolute_uri()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(token).validate(url, request.POST, signature):
        logger.warning("Twilio inbound webhook: bad signature for %s", url)
        return HttpResponseForbidden("Invalid signature.")
    result = apply_inbound_keyword(
        number=request.POST.get("From", ""), body=request.POST.get("Body", "")
    )
    if result is not None:
        logger.info("SMS opt-%s from an inbound keyword", "out" if result else "in")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
