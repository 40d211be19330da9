"""SMS through Twilio's Messages API with the official `twilio` package.

Error codes decide what happens next (https://www.twilio.com/docs/api/errors): an invalid or
unsubscribed number will never work, so the delivery fails at once; a Twilio outage (5xx),
rate limiting (429), a network error or bad credentials being fixed by an operator are worth
retrying.
"""

import requests
from django.conf import settings
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .base import BaseSmsBackend, SmsError

# Seconds before an HTTP request to Twilio is abandoned (then retried with backoff).
TIMEOUT = 15

# Twilio answers 400 for these; none can succeed by trying again.
PERMANENT_CODES = {
    21211: "invalid 'To' phone number",
    21214: "'To' phone number cannot be reached",
    21408: "permission to send to this region is not enabled",
    21610: "the recipient has unsubscribed (replied STOP)",
    21612: "the 'To' number cannot receive this message",
    21614: "'To' number is not a valid mobile number",
    30003: "unreachable destination handset",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
}


class TwilioSmsBackend(BaseSmsBackend):
    # Tests replace only the HTTP layer, so the real Client builds the real request.
    http_client_factory = staticmethod(lambda: TwilioHttpClient(timeout=TIMEOUT))

    def __init__(self, *, http_client=None, **kwargs):
        super().__init__(**kwargs)
        self.from_number = settings.TWILIO_FROM_NUMBER
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=http_client or self.http_client_factory(),
        )

    def send(self, *, to: str, body: str) -> str:
        try:
            message = self.client.messages.create(to=to, from_=self.from_number, body=body)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise classify(exc) from exc
        except (requests.RequestException, OSError, TwilioException) as exc:
            raise SmsError(f"Twilio unreachable: {exc}", permanent=False) from exc
        return message.sid


def classify(exc: TwilioRestException | TwilioServiceException) -> SmsError:
    """Turn an error answer from Twilio (legacy or RFC 9457 shape) into an SmsError."""
    code = exc.code
    reason = PERMANENT_CODES.get(code) if code is not None else None
    legacy = isinstance(exc, TwilioRestException)
    detail = (exc.msg if legacy else exc.detail or exc.title) or reason or f"HTTP {exc.status}"
    if exc.status >= 500 or exc.status == 429:
        return SmsError(
            f"Twilio unavailable (HTTP {exc.status}): {detail}", permanent=False, code=code
        )
    if exc.status in (401, 403) and code not in PERMANENT_CODES:
        # Wrong credentials are an operator's mistake; keep the message until it is fixed.
        return SmsError(f"Twilio rejected the credentials: {detail}", permanent=False, code=code)
    return SmsError(f"Twilio refused the message: {detail}", permanent=True, code=code)
