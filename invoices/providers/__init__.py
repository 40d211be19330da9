"""Online payment providers: one interface, chosen by settings (GUIDE §3).

`settings.PAYMENT_PROVIDER` is "stripe" when STRIPE_SECRET_KEY is set (the settings refuse a
half configuration at start-up), otherwise "sandbox": a clearly labelled test-mode card page
of our own, for development, demos and tests. Views never import a provider module directly:
they ask `get_provider()`.

A provider starts a checkout (returns where to send the client) and says whether a session was
paid. Recording the payment is not its business: `invoices/online.py` does that, once, whatever
path the news arrives by (redirect back, webhook, double submit).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class ProviderError(Exception):
    """The provider could not be reached or refused the request; nothing was charged."""


@dataclass(frozen=True)
class StartedCheckout:
    """Where to send the client, and the provider's id of the session."""

    session_id: str
    redirect_url: str


@dataclass(frozen=True)
class PaidSession:
    """What the provider says about a paid session: enough to record the payment."""

    session_id: str
    amount: Decimal
    currency: str
    card_brand: str = ""
    card_last4: str = ""


class PaymentProvider(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    test_mode: ClassVar[bool] = False

    @abstractmethod
    def start(self, *, checkout, return_url: str, cancel_url: str) -> StartedCheckout:
        """Open a session for `checkout` (an OnlineCheckout with its amount and client)."""

    @abstractmethod
    def paid_session(self, *, session_id: str) -> PaidSession | None:
        """The session if the provider says it is paid, else None."""


def get_provider(name: str | None = None) -> PaymentProvider:
    """The configured provider (or the one named, for a checkout started with it)."""
    name = name or settings.PAYMENT_PROVIDER
    if name == "sandbox":
        from .sandbox import SandboxProvider

        return SandboxProvider()
    if name == "stripe":
        from .stripe import StripeProvider

        if not settings.STRIPE_SECRET_KEY:
            raise ImproperlyConfigured("Stripe checkouts need STRIPE_SECRET_KEY.")
        return StripeProvider(
            secret_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        )
    raise ImproperlyConfigured(f"Unknown payment provider {name!r}: use stripe or sandbox.")
