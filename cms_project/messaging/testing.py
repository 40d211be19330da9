"""Test helpers for any app that sends messages: a real SMTP server on loopback and the real
Twilio client with only its HTTP layer replaced.

    from cms_project.messaging.testing import fake_twilio, smtp_server

    with smtp_server() as smtp:                 # aiosmtpd, MAILERS pointed at it
        ...queue_email(...)...
    smtp.messages[0].envelope_rcpt_tos, smtp.messages[0].message["Cc"]

    with fake_twilio() as twilio:               # SMS_BACKEND = Twilio, TWILIO_* test values
        ...queue_sms(...)...
    twilio.requests[0].data["Body"]

Imported only by tests (aiosmtpd is a development dependency).
"""

import email
import email.policy
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from django.test import override_settings
from twilio.http import HttpClient
from twilio.http.response import Response

TEST_SID = "AC" + "0" * 32
TEST_TOKEN = "test-auth-token-0123456789abcdef"
TEST_FROM = "+15005550006"


# --- SMTP -----------------------------------------------------------------------------------
@dataclass
class ReceivedEmail:
    mail_from: str
    envelope_rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[ReceivedEmail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(ReceivedEmail(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A port nobody listens on now. aiosmtpd's Controller cannot bind port 0 (it connects to
    the port it was given to check the server is up), so one is picked first."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mailers_for(port: int) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


class SmtpServer:
    """aiosmtpd on 127.0.0.1; `stop()` and `start()` simulate an outage on the same port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.controller = None

    @property
    def messages(self) -> list[ReceivedEmail]:
        return self.handler.messages

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextmanager
def smtp_server(*, running: bool = True) -> Iterator[SmtpServer]:
    """A real SMTP server, with Django's default mailer pointed at it. With running=False
    the port is chosen but nothing listens yet (SMTP outage); call `.start()` later."""
    server = SmtpServer()
    if running:
        server.start()
    try:
        with override_settings(MAILERS=mailers_for(server.port)):
            yield server
    finally:
        server.stop()


# --- Twilio ---------------------------------------------------------------------------------
@dataclass
class RecordedRequest:
    method: str
    url: str
    data: dict
    auth: tuple | None
    headers: dict


class RecordingTwilioHttpClient(HttpClient):
    """Twilio's HTTP layer, replaced: records each request and answers with canned responses
    (a 201 "queued" message by default). Queue other answers with `respond(status, body)`
    or make the network fail with `fail_with(exception)`."""

    def __init__(self):
        super().__init__(logger=None, is_async=False)
        self.requests: list[RecordedRequest] = []
        self._answers: list = []

    def respond(self, status: int, body: dict | str) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        self._answers.append(Response(status, text))

    def respond_error(self, status: int, code: int, message: str) -> None:
        self.respond(
            status,
            {"code": code, "message": message, "more_info": "", "status": status},
        )

    def fail_with(self, exc: Exception) -> None:
        self._answers.append(exc)

    def request(
        self,
        method,
        uri,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append(RecordedRequest(method, uri, dict(data or {}), auth, headers or {}))
        if self._answers:
            answer = self._answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        sid = "SM" + uuid.uuid4().hex
        return Response(
            201,
            json.dumps(
                {"sid": sid, "status": "queued", "to": data.get("To"), "body": data.get("Body")}
            ),
        )


def twilio_settings():
    return override_settings(
        SMS_BACKEND="cms_project.messaging.sms.twilio.TwilioSmsBackend",
        TWILIO_ACCOUNT_SID=TEST_SID,
        TWILIO_AUTH_TOKEN=TEST_TOKEN,
        TWILIO_FROM_NUMBER=TEST_FROM,
    )


@contextmanager
def fake_twilio() -> Iterator[RecordingTwilioHttpClient]:
    """The Twilio backend through the real `twilio.rest.Client`, its HTTP layer recording."""
    from .sms.twilio import TwilioSmsBackend

    http = RecordingTwilioHttpClient()
    original = TwilioSmsBackend.http_client_factory
    TwilioSmsBackend.http_client_factory = staticmethod(lambda: http)
    try:
        with twilio_settings():
            yield http
    finally:
        TwilioSmsBackend.http_client_factory = original
