from django.apps import AppConfig

# What this app writes to the audit log (collected by staff.audit.action_labels()).
AUDIT_ACTIONS = {"company.settings_change": "Changed the company settings"}


class CompanyConfig(AppConfig):
    """The company's own details and billing policy: one record, edited by admins."""

    name = "cms_project.company"
    label = "company"
    verbose_name = "Company settings"
    audit_actions = AUDIT_ACTIONS
