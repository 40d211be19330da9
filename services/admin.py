"""Django admin (superusers): read-mostly views of the catalog; staff use the workspace pages,
which enforce the price and subscription rules."""

from django.contrib import admin

from .models import Announcement, AnnouncementRecipient, Service, ServicePrice, Subscription


class ServicePriceInline(admin.TabularInline):
    model = ServicePrice
    extra = 0
    # Prices in effect are never edited (GUIDE §2); change them on the service page.
    readonly_fields = ["amount", "effective_from", "created_by", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "billing_cycle", "is_active", "visible_to_clients"]
    list_filter = ["category", "is_active", "visible_to_clients", "self_service"]
    search_fields = ["name"]
    inlines = [ServicePriceInline]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["service", "location", "quantity", "status", "start_date", "end_date"]
    list_filter = ["status", "service"]
    list_select_related = ["service", "location"]
    raw_id_fields = ["location", "equipment", "created_by"]
    readonly_fields = ["created_at", "updated_at"]


class AnnouncementRecipientInline(admin.TabularInline):
    model = AnnouncementRecipient
    extra = 0
    raw_id_fields = ["client"]
    readonly_fields = ["client", "channel", "queued", "created_at"]


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ["service", "requested_by", "requested_at", "sms_count", "email_count"]
    readonly_fields = ["requested_at", "finished_at", "sms_count", "email_count"]
    inlines = [AnnouncementRecipientInline]
