from django.contrib import admin

from .models import (
    Client,
    ClientImport,
    Equipment,
    EquipmentMove,
    FollowUpTask,
    Interaction,
    ServiceLocation,
)


class LocationInline(admin.TabularInline):
    model = ServiceLocation
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["account_number", "name", "company_name", "status", "segment", "email"]
    list_filter = ["status", "segment"]
    search_fields = ["account_number", "name", "company_name", "email"]
    raw_id_fields = ["user"]
    inlines = [LocationInline]


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ["serial_number", "kind", "make_model", "status", "ownership", "location"]
    list_filter = ["kind", "status", "ownership"]
    search_fields = ["serial_number", "mac_address"]
    raw_id_fields = ["location"]


@admin.register(EquipmentMove)
class EquipmentMoveAdmin(admin.ModelAdmin):
    list_display = ["equipment", "from_location", "to_location", "status", "moved_at", "moved_by"]
    raw_id_fields = ["equipment", "from_location", "to_location", "moved_by"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["client", "kind", "subject", "occurred_at", "logged_by"]
    list_filter = ["kind"]
    raw_id_fields = ["client", "logged_by"]


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(admin.ModelAdmin):
    list_display = ["title", "client", "assignee", "due_date", "priority", "status"]
    list_filter = ["status", "priority"]
    raw_id_fields = ["client"]


@admin.register(ClientImport)
class ClientImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "status", "client_count", "created_at", "uploaded_by"]
    exclude = ["content"]
