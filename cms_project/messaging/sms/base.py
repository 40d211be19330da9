"""The interface every SMS backend implements."""


class SmsError(Exception):
    """A message could not be sent.

    `permanent` is the only thing the delivery task needs to decide: a permanent error
    (invalid number, unsubscribed recipient) fails the delivery at once; any other is retried
    with backoff.
    """

    def __init__(self, message: str, *, permanent: bool, code: str | int | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code

    def __str__(self) -> str:
        return f"{self.message} (code {self.code})" if self.code is not None else self.message


class BaseSmsBackend:
    """Subclasses implement `send`. Keyword arguments are accepted (and ignored) so settings
    can grow options without breaking backends, as with Django's email backends."""

    def __init__(self, **kwargs):
        pass

    def send(self, *, to: str, body: str) -> str:
        """Send one SMS to an E.164 number; return the provider's message id or raise SmsError."""
        raise NotImplementedError
