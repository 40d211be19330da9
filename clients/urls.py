"""Staff workspace pages of the clients app (mounted at /staff/clients/)."""

from django.urls import path

from . import pipeline_views, views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("new/", views.client_create, name="client_create"),
    path("<int:pk>/", views.client_detail, name="client_detail"),
    path("<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("<int:pk>/delete/", views.client_delete, name="client_delete"),
    path("<int:pk>/portal-login/", views.portal_invite, name="portal_invite"),
    path("<int:pk>/locations/new/", views.location_create, name="location_create"),
    path("<int:pk>/interactions/", views.interaction_list, name="interaction_list"),
    path("<int:pk>/interactions/new/", views.interaction_create, name="interaction_create"),
    path("interactions/<int:pk>/edit/", views.interaction_edit, name="interaction_edit"),
    path("interactions/<int:pk>/delete/", views.interaction_delete, name="interaction_delete"),
    path("<int:pk>/tasks/new/", views.client_task_create, name="client_task_create"),
    path("locations/<int:pk>/edit/", views.location_edit, name="location_edit"),
    path("locations/<int:pk>/equipment/new/", views.equipment_create, name="equipment_create"),
    path(
        "locations/<int:pk>/equipment/install/",
        views.equipment_install_from_stock,
        name="equipment_install_from_stock",
    ),
    path("equipment/", views.equipment_list, name="equipment_list"),
    path("equipment/new/", views.equipment_stock_create, name="equipment_stock_create"),
    path("equipment/<int:pk>/", views.equipment_detail, name="equipment_detail"),
    path("equipment/<int:pk>/edit/", views.equipment_edit, name="equipment_edit"),
    path("equipment/<int:pk>/move/", views.equipment_move, name="equipment_move"),
    path("tasks/", views.task_list, name="task_list"),
    path("pipeline/", pipeline_views.pipeline_board, name="pipeline"),
    path("opportunities/", pipeline_views.opportunity_list, name="opportunity_list"),
    path("opportunities/new/", pipeline_views.opportunity_create, name="opportunity_create"),
    path("opportunities/<int:pk>/", pipeline_views.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", pipeline_views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/move/", pipeline_views.opportunity_move, name="opportunity_move"),
    path(
        "<int:pk>/opportunities/new/",
        pipeline_views.client_opportunity_create,
        name="client_opportunity_create",
    ),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:pk>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("export/clients.csv", views.client_export, name="client_export"),
    path("export/locations.csv", views.location_export, name="location_export"),
    path("export/equipment.csv", views.equipment_export, name="equipment_export"),
    path("import/", views.import_start, name="import_start"),
    path("import/template.csv", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_preview, name="import_preview"),
    path("import/<int:pk>/status/", views.import_status, name="import_status"),
    path("import/<int:pk>/commit/", views.import_commit, name="import_commit"),
]
