"""The bench prints met or not met beside each row whose target is in the table's terms."""

from __future__ import annotations

from bench.harness import Result
from bench.verdicts import add_verdict


def row(key: str = "handoff_audit_page", **figures: object) -> Result:
    extra = figures.pop("extra", {})
    r = Result(key, key, **figures)  # type: ignore[arg-type]
    r.extra.update(extra)  # type: ignore[arg-type]
    return r


def test_a_read_is_judged_by_its_most_statements_and_its_times() -> None:
    met = add_verdict(row(target="≤8 q, p95 ≤100", queries_max=7, p95_ms=42.2))
    assert met.note == "target met (7 q ≤ 8 met, p95 42.2 ≤ 100 met)"
    slow = add_verdict(row(target="≤8 q, p95 ≤100", queries_max=7, p95_ms=120.0))
    assert slow.note.startswith("target NOT met") and "p95 120 ≤ 100 NOT met" in slow.note
    many = add_verdict(row(target="≤8 q, med ≤40", queries_max=9, median_ms=20.0))
    assert many.note.startswith("target NOT met (9 q ≤ 8 NOT met")


def test_a_write_is_judged_by_its_middle_sampled_call() -> None:
    warm = {"statement_counts": {"27": 1, "28": 1, "32": 1}}
    assert add_verdict(row("handoff_offer_accept", target="≤30 q", extra=warm)).note == (
        "target met (28 q ≤ 30 met)"
    )
    heavy = {"statement_counts": {"28": 1, "31": 2}}
    assert "NOT met" in add_verdict(row("handoff_offer_accept", target="≤30 q", extra=heavy)).note


def test_statements_a_case_and_seconds() -> None:
    cover = {"items_per_call": 300}
    fast = add_verdict(
        row("cover_for", target="≤5 q a case, ≤1 s", queries_max=30, median_ms=931.7, extra=cover)
    )
    assert fast.note == "target met (0.1 q a case ≤ 5 met, median 0.932 s ≤ 1 met)"
    slow = add_verdict(
        row("cover_for", target="≤5 q a case, ≤1 s", queries_max=30, median_ms=1047.5, extra=cover)
    )
    assert slow.note.endswith("median 1.05 s ≤ 1 NOT met)")


def test_a_sweep_target_per_thousand_is_its_median() -> None:
    assert add_verdict(row("sweep_claim", target="≤50 ms / 1,000", median_ms=21.3)).note == (
        "target met (median 21.3 ≤ 50 met)"
    )


def test_rows_that_judge_themselves_or_say_it_in_other_words_are_left_alone() -> None:
    judged = row(target="≤8 q, p95 ≤25", queries_max=20, p95_ms=9.0, note="target met: 4 q")
    assert add_verdict(judged).note == "target met: 4 q"
    worded = row("figures_refresh", target="≪ 30 s interval", median_ms=300.0)
    assert add_verdict(worded).note == ""
    failed = row(target="≤8 q", queries_max=3, status="errors")
    assert add_verdict(failed).note == ""
