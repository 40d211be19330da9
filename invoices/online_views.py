"""Portal pages for paying online (the client's own invoices only) and the Stripe webhook.
Thin: permission, one domain function from `online.py`, message, redirect. Anything that is
not the client's own (a checkout, an invoice) is a 404, whether it exists or not."""

import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from clients.queries import client_for_portal_user
from staff.permissions import client_required, public

from . import online
from .allocation import PaymentError
from .ledger import client_balance, open_balance
from .models import OnlineCheckout
from .online_forms import PortalPayForm, SandboxCardForm
from .providers import ProviderError, get_provider
from .providers.sandbox import CardDeclined

logger = logging.getLogger(__name__)


def _get_checkout_for_user(user, public_id) -> OnlineCheckout:
    return get_object_or_404(
        OnlineCheckout.objects.select_related("client", "payment"),
        public_id=public_id,
        client__user=user,
    )


def _preselected(request) -> list[int]:
    return [int(v) for v in request.GET.getlist("invoice") if v.isdigit() and len(v) < 12]


@client_required
@never_cache
def portal_pay(request):
    client = client_for_portal_user(request.user)
    if client is None:
        return render(request, "services/portal/no_account.html")
    form = PortalPayForm(
        request.POST if request.method == "POST" else None,
        client=client,
        payable=online.payable_invoices(client),
        preselect=_preselected(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            checkout = online.start_checkout(
                client=client,
                choices=form.choices,
                user=request.user,
                return_url=lambda c: request.build_absolute_uri(
                    reverse("invoices:portal_checkout_return", args=[c.public_id])
                ),
                cancel_url=lambda c: request.build_absolute_uri(
                    reverse("invoices:portal_checkout", args=[c.public_id])
                ),
            )
        except PaymentError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except ProviderError as exc:
            logger.warning("Payment provider refused a checkout: %s", exc)
            form.add_error(
                None,
                "The payment service did not answer; nothing was charged. "
                "Please try again in a few minutes.",
            )
        else:
            return redirect(checkout.redirect_url)
    return render(
        request,
        "invoices/portal/pay.html",
        {
            "form": form,
            "balance": client_balance(client),
            "provider": get_provider(),
        },
        status=400 if form.errors else 200,
    )


@client_required
@never_cache
def portal_checkout(request, public_id):
    """Where a checkout ends: paid (new balance, receipt), waiting, failed or expired."""
    checkout = online.expire_if_stale(_get_checkout_for_user(request.user, public_id))
    client = checkout.client
    return render(
        request,
        "invoices/portal/checkout.html",
        {
            "checkout": checkout,
            "payment": checkout.payment,
            "balance": client_balance(client),
            "open_balance": open_balance(client),
        },
    )


@client_required
@never_cache
def portal_checkout_return(request, public_id):
    """Stripe sends the client back here: ask Stripe about the session and record it if it
    was paid (the webhook may have done so already; either way one payment)."""
    checkout = _get_checkout_for_user(request.user, public_id)
    if checkout.is_pending:
        try:
            payment = online.complete_from_provider(checkout=checkout)
        except ProviderError:
            payment = None
            messages.warning(
                request, "We could not confirm the payment yet; this page will show it soon."
            )
        if payment is not None:
            messages.success(request, f"Thank you: payment {payment.number} is recorded.")
    return redirect("invoices:portal_checkout", public_id=checkout.public_id)


@client_required
@sensitive_post_parameters("card_number", "cvc")
@never_cache
def portal_sandbox_pay(request, public_id):
    """The sandbox provider's card page (test mode; no money moves)."""
    checkout = online.expire_if_stale(_get_checkout_for_user(request.user, public_id))
    if checkout.provider != "sandbox":
        raise Http404("Not a test-mode checkout.")
    if checkout.payment_id or checkout.status == OnlineCheckout.Status.EXPIRED:
        return redirect("invoices:portal_checkout", public_id=checkout.public_id)
    form = SandboxCardForm(request.POST if request.method == "POST" else None)
    declined = ""
    if request.method == "POST" and form.is_valid():
        try:
            payment = online.pay_with_sandbox_card(
                checkout=checkout,
                number=form.cleaned_data["card_number"],
                expiry=form.cleaned_data["expiry"],
                cvc=form.cleaned_data["cvc"],
            )
        except CardDeclined as exc:
            declined = str(exc)
            form = SandboxCardForm()  # the card's details are not shown again
        except PaymentError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Thank you: payment {payment.number} is recorded.")
            return redirect("invoices:portal_checkout", public_id=checkout.public_id)
    return render(
        request,
        "invoices/portal/sandbox_pay.html",
        {"checkout": checkout, "form": form, "declined": declined},
        status=400 if (form.errors or declined) else 200,
    )


@public
@csrf_exempt  # Stripe cannot send a CSRF token; the signature check below replaces it.
@require_POST
def stripe_webhook(request):
    if settings.PAYMENT_PROVIDER != "stripe":
        raise Http404("Stripe is not configured.")
    provider = get_provider("stripe")
    try:
        event = provider.parse_webhook(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except (ValueError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest("Invalid payload or signature.")
    try:
        outcome = online.handle_stripe_event(event=event, provider=provider)
    except PaymentError as exc:
        # Signed by Stripe but not what we expected (another currency): keep it for a human.
        logger.error("Stripe event %s not recorded: %s", event["id"], exc.message)
        outcome = "refused"
    logger.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return HttpResponse(outcome, content_type="text/plain")
