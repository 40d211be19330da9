"""SMS backends, shaped like Django's email backends.

`SMS_BACKEND` names the backend class (dotted path). `get_sms_backend()` instantiates it; the
delivery task calls `backend.send(to=..., body=...)` and gets the provider's message id back,
or an `SmsError` that says whether retrying can help.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import BaseSmsBackend, SmsError

__all__ = ["BaseSmsBackend", "SmsError", "get_sms_backend"]


def get_sms_backend(backend: str | None = None, **kwargs) -> BaseSmsBackend:
    return import_string(backend or settings.SMS_BACKEND)(**kwargs)
