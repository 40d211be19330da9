"""Read-only views of the delivery log for superusers; staff use /messaging/deliveries/."""

from django.contrib import admin

from .models import Delivery, OutboxMessage, SmsOptOut


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "to", "subject", "purpose", "status", "attempts"]
    list_filter = ["channel", "status", "purpose"]
    search_fields = ["to", "cc", "bcc", "subject", "provider_id"]
    date_hierarchy = "created_at"

    # The log records what happened; editing it would falsify that.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "body"]
    search_fields = ["to", "body"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):
    list_display = ["number", "opted_out", "source", "changed_at"]
    list_filter = ["opted_out"]
    search_fields = ["number"]
