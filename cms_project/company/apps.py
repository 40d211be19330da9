from django.apps import AppConfig


class CompanyConfig(AppConfig):
    """The company's own details and billing policy: one record, edited by admins."""

    name = "cms_project.company"
    label = "company"
    verbose_name = "Company settings"
