from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    name = "invoices"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the signal receivers)
