"""`make bench`: the benchmark suite of GUIDE §5 (not a test), written into docs/benchmarks.md.

`manage.py bench_suite` runs everything in separate processes against databases given by URL,
so the process that orchestrates never holds the data set: the data set is generated with
`seed_demo --clients N`, query counts are taken by `bench_queries` on each data set, pages are
served by gunicorn under `cms_project.settings.bench` and loaded by locust.
"""
