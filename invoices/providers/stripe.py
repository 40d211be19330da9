"""The Stripe provider: Checkout Sessions with the official `stripe` package.

The client is sent to Stripe's hosted page (we never see the card), comes back to our return
URL with the session id, and Stripe also posts `checkout.session.completed` to the webhook.
Either may arrive first, or only one of them: both call `paid_session()` and record through
`invoices.online.complete_checkout`, which records one payment per session (the payment's
provider reference is the session id, unique in the database).
"""

from decimal import Decimal

import stripe as stripe_lib

from cms_project.company.models import get_company

from . import PaidSession, PaymentProvider, ProviderError, StartedCheckout

# Currencies Stripe counts in whole units (no cents): https://docs.stripe.com/currencies
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)


def to_minor_units(amount: Decimal, currency: str) -> int:
    if currency.upper() in ZERO_DECIMAL:
        return int(amount)
    return int(amount * 100)


def from_minor_units(value: int, currency: str) -> Decimal:
    if currency.upper() in ZERO_DECIMAL:
        return Decimal(value).quantize(Decimal("0.01"))
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


class StripeProvider(PaymentProvider):
    name = "stripe"
    label = "Stripe"

    def __init__(self, *, secret_key: str, webhook_secret: str, http_client=None):
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        # Tests hand in a stripe.HTTPClient subclass; None is the library's own transport.
        self.http_client = http_client or stripe_lib.default_http_client

    def client(self) -> stripe_lib.StripeClient:
        return stripe_lib.StripeClient(
            self.secret_key, http_client=self.http_client, max_network_retries=2
        )

    def start(self, *, checkout, return_url: str, cancel_url: str) -> StartedCheckout:
        numbers = ", ".join(row["number"] for row in checkout.allocations)
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": checkout.currency.lower(),
                        "unit_amount": to_minor_units(checkout.amount, checkout.currency),
                        "product_data": {
                            "name": f"{get_company().name}: payment of {numbers}"[:250]
                        },
                    },
                }
            ],
            # Stripe fills in {CHECKOUT_SESSION_ID}; the return view asks Stripe about it.
            "success_url": f"{return_url}?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": cancel_url,
            "client_reference_id": str(checkout.public_id),
            "metadata": {"checkout_id": str(checkout.pk), "client": checkout.client.account_number},
            "payment_intent_data": {"metadata": {"checkout_id": str(checkout.pk)}},
        }
        if checkout.client.email:
            params["customer_email"] = checkout.client.email
        try:
            # The checkout's own id as idempotency key: a retried request opens one session.
            session = self.client().v1.checkout.sessions.create(
                params, {"idempotency_key": f"checkout-{checkout.public_id}"}
            )
        except stripe_lib.StripeError as exc:
            raise ProviderError(str(exc.user_message or "Stripe refused the request.")) from exc
        return StartedCheckout(session_id=session["id"], redirect_url=session["url"])

    def paid_session(self, *, session_id: str) -> PaidSession | None:
        try:
            session = self.client().v1.checkout.sessions.retrieve(
                session_id, {"expand": ["payment_intent.latest_charge"]}
            )
        except stripe_lib.StripeError as exc:
            raise ProviderError(str(exc.user_message or "Stripe did not answer.")) from exc
        return self.paid_from_session(session)

    @staticmethod
    def paid_from_session(session) -> PaidSession | None:
        # StripeObject is not a dict; read plain data.
        session = session.to_dict() if hasattr(session, "to_dict") else session
        if session.get("payment_status") != "paid":
            return None
        currency = (session.get("currency") or "").upper()
        brand = last4 = ""
        intent = session.get("payment_intent")
        charge = intent.get("latest_charge") if isinstance(intent, dict) else None
        if isinstance(charge, dict):
            card = (charge.get("payment_method_details") or {}).get("card") or {}
            brand, last4 = (card.get("brand") or "").title(), card.get("last4") or ""
        return PaidSession(
            session_id=session["id"],
            amount=from_minor_units(session.get("amount_total") or 0, currency),
            currency=currency,
            card_brand=brand,
            card_last4=last4,
        )

    def parse_webhook(self, *, payload: bytes, signature: str):
        """The verified event, or ValueError / stripe.SignatureVerificationError."""
        return stripe_lib.Webhook.construct_event(payload, signature, self.webhook_secret)
