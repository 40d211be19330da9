"""What the figures were measured on: they mean little without it on a shared machine."""

import os
import platform
import sys

import django


def memory_gb() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def describe(*, database: str) -> dict:
    return {
        "cores": os.cpu_count() or 0,
        "memory_gb": memory_gb(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "python_impl": sys.implementation.name,
        "django": django.get_version(),
        "database": database,
        "load": os.getloadavg(),
    }
