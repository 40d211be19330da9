from django.apps import AppConfig

# What this app writes to the audit log, with the labels the audit page shows (collected by
# staff.audit.action_labels() from the AppConfig below).
AUDIT_ACTIONS = {
    "service.create": "Added a service to the catalog",
    "service.update": "Edited a service",
    "service.price_change": "Changed a price (from a date)",
    "service.price_withdraw": "Withdrew a scheduled price",
    "service.deactivate": "Deactivated a service",
    "service.reactivate": "Reactivated a service",
    "service.delete": "Deleted a service",
    "subscription.create": "Added a subscription",
    "subscription.change": "Changed a subscription (quantity, agreed price, equipment)",
    "subscription.activate": "Activated a subscription",
    "subscription.suspend": "Suspended a subscription",
    "subscription.resume": "Resumed a subscription",
    "subscription.cancel": "Cancelled a subscription",
}


class ServicesConfig(AppConfig):
    name = "services"
    audit_actions = AUDIT_ACTIONS
