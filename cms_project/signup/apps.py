from django.apps import AppConfig


class SignupConfig(AppConfig):
    """Client self sign-up. Sits above staff and clients: it creates a portal user and its
    client record once the email address is verified."""

    name = "cms_project.signup"
    label = "signup"
    verbose_name = "Sign-up"
