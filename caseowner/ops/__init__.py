"""Operations: metrics, health and readiness, structured logs, worker checks.

Shared figures (counters kept by workers, sweep timings, the per-team snapshot) live in
``caseowner.store``; the ``/metrics`` collectors, the health views and
``manage.py check_workers`` read them.
"""
