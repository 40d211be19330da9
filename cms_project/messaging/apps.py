from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Delivery log of every email and SMS, and the SMS backends. Usable by every app."""

    name = "cms_project.messaging"
    label = "messaging"
    verbose_name = "Messages"
