"""The sandbox provider: a test-mode card page of our own, no money moves.

Two test cards, as Stripe's test mode has: 4242 4242 4242 4242 succeeds and
4000 0000 0000 0002 is declined. Any other number is refused (a real card has no business
here). The card number and CVC are checked and dropped: only the brand and last four digits
leave this module, and nothing here logs them.
"""

import secrets
from dataclasses import dataclass
from datetime import date

from django.urls import reverse

from . import PaidSession, PaymentProvider, StartedCheckout

SUCCEEDS = "4242424242424242"
DECLINES = "4000000000000002"
DECLINE_MESSAGE = "Your card was declined. Nothing was charged; try another card."


class CardError(Exception):
    """A card detail that is not valid; `field` names the form field."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


class CardDeclined(Exception):
    """The (test) bank said no."""


@dataclass(frozen=True)
class CardResult:
    card_brand: str
    card_last4: str


def digits_of(number: str) -> str:
    return "".join(ch for ch in number or "" if not ch.isspace() and ch != "-")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def card_brand(digits: str) -> str:
    if digits.startswith("4"):
        return "Visa"
    if digits[:2] in {"34", "37"}:
        return "American Express"
    if "51" <= digits[:2] <= "55" or "2221" <= digits[:4] <= "2720":
        return "Mastercard"
    if digits.startswith(("6011", "65")):
        return "Discover"
    return "Card"


def check_card(*, number: str, expiry: str, cvc: str, today: date) -> str:
    """The card's digits if the details are well formed, else CardError next to a field."""
    digits = digits_of(number)
    if not digits:
        raise CardError("Enter the card number.", field="card_number")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise CardError("A card number is 12 to 19 digits.", field="card_number")
    if not luhn_ok(digits):
        raise CardError("This card number is not valid; check the digits.", field="card_number")
    if digits not in (SUCCEEDS, DECLINES):
        raise CardError(
            "Test mode takes only the test cards: 4242 4242 4242 4242 (succeeds) or "
            "4000 0000 0000 0002 (declined).",
            field="card_number",
        )
    text = "".join((expiry or "").split())
    month, _, year = text.partition("/")
    if not (month.isdigit() and year.isdigit() and len(year) in (2, 4) and len(month) <= 2):
        raise CardError("Enter the expiry date as MM/YY.", field="expiry")
    month_n, year_n = int(month), int(year) + (2000 if len(year) == 2 else 0)
    if not 1 <= month_n <= 12:
        raise CardError("The expiry month is 01 to 12.", field="expiry")
    if (year_n, month_n) < (today.year, today.month):
        raise CardError("This card has expired.", field="expiry")
    if year_n > today.year + 20:
        raise CardError("Check the expiry year.", field="expiry")
    cvc = (cvc or "").strip()
    expected = 4 if card_brand(digits) == "American Express" else 3
    if not (cvc.isdigit() and len(cvc) == expected):
        raise CardError(f"The security code (CVC) is {expected} digits.", field="cvc")
    return digits


def charge(*, number: str, expiry: str, cvc: str, today: date) -> CardResult:
    """Pretend to charge the card: CardError (bad details), CardDeclined, or the result."""
    digits = check_card(number=number, expiry=expiry, cvc=cvc, today=today)
    if digits == DECLINES:
        raise CardDeclined(DECLINE_MESSAGE)
    return CardResult(card_brand=card_brand(digits), card_last4=digits[-4:])


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    label = "Test mode (sandbox)"
    test_mode = True

    def start(self, *, checkout, return_url: str, cancel_url: str) -> StartedCheckout:
        session_id = f"sbx_{secrets.token_hex(12)}"
        return StartedCheckout(
            session_id=session_id,
            redirect_url=reverse("invoices:portal_sandbox_pay", args=[checkout.public_id]),
        )

    def paid_session(self, *, session_id: str) -> PaidSession | None:
        # A sandbox session is paid on our own card page, which records it there and then.
        return None
