from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "cms_project.dashboard"
    label = "dashboard"
