"""The default SMS backend when Twilio is not configured: messages are recorded, not sent.

Admins read them at /messaging/outbox/, which makes demos and development work end to end
without a provider account.
"""

from .base import BaseSmsBackend


class OutboxSmsBackend(BaseSmsBackend):
    def send(self, *, to: str, body: str) -> str:
        from ..models import OutboxMessage

        return OutboxMessage.objects.create(to=to, body=body).provider_id
