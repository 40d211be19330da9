from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = "Accounts and staff"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the audit receivers)
