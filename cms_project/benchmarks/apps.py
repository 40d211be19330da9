from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "cms_project.benchmarks"
    label = "benchmarks"
