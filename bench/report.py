"""One table on the terminal, the same figures as JSON under ``var/bench/``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.db import scale_tag

OUT_DIR = Path(__file__).resolve().parent.parent / "var" / "bench"


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _queries(row: dict) -> str:
    q, qmax = row.get("queries"), row.get("queries_max")
    if q is None:
        return "—"
    return f"{q}" if qmax in (None, q) else f"{q}–{qmax}"


def _row_cells(row: dict) -> list[str]:
    status = row.get("status", "ok")
    if status not in ("ok", "errors"):
        return [row["label"], status, "", "", "", "", "", "", "", row.get("target", "")]
    thr = row.get("throughput")
    return [
        row["label"],
        _queries(row),
        _fmt(row.get("n")),
        _fmt(row.get("median_ms"), 2),
        _fmt(row.get("p95_ms"), 2),
        _fmt(row.get("p99_ms"), 2),
        _fmt(row.get("cpu_median_ms"), 2),
        f"{_fmt(thr)} {row.get('unit', '')}" if thr is not None else "—",
        _fmt(row.get("errors")),
        row.get("target", ""),
    ]


def render_table(report: dict) -> str:
    head = [
        "operation",
        "queries",
        "n",
        "median ms",
        "p95 ms",
        "p99 ms",
        "cpu ms",
        "throughput",
        "err",
        "target (scale 1)",
    ]
    rows = [_row_cells(r) for r in report["results"]]
    http = report.get("http") or []
    for h in http:
        rows.append(_row_cells(h))
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows, strict=False)]
    numeric = {1, 2, 3, 4, 5, 6, 7, 8}

    def line(cells: list[str]) -> str:
        out = []
        for i, (cell, w) in enumerate(zip(cells, widths, strict=False)):
            out.append(
                str(cell).rjust(w) if i in numeric and cells is not head else str(cell).ljust(w)
            )
        return "  ".join(out).rstrip()

    counts = report.get("data", {}).get("counts", {})
    title = (
        f"caseowner bench — scale {report['scale']:g} — {report['database']} — "
        f"{report['started_at']}"
    )
    parts = [title]
    if counts:
        parts.append("data: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    parts += [line(head), line(["-" * w for w in widths])]
    parts += [line(r) for r in rows]
    notes = [
        f"  {r['label']}: {r['note']}"
        for r in [*report["results"], *http]
        if r.get("note") and r.get("status") != "n/a (not built)"
    ]
    if notes:
        parts.append("notes:")
        parts += notes
    return "\n".join(parts)


def write_json(report: dict) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT_DIR / f"bench-{scale_tag(report['scale'])}-{stamp}.json"
    text = json.dumps(report, indent=2, default=str)
    path.write_text(text)
    (OUT_DIR / "latest.json").write_text(text)
    (OUT_DIR / f"latest-{scale_tag(report['scale'])}.json").write_text(text)
    return path


def load_latest(scale: float) -> dict | None:
    path = OUT_DIR / f"latest-{scale_tag(scale)}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def render_compare(reports: list[dict]) -> str:
    """Two (or more) scales side by side; the last column is the ratio last/first."""
    first, last = reports[0], reports[-1]
    keys: list[str] = []
    labels: dict[str, str] = {}
    for rep in reports:
        for r in [*rep["results"], *(rep.get("http") or [])]:
            if r["key"] not in labels:
                keys.append(r["key"])
                labels[r["key"]] = r["label"]

    def find(rep: dict, key: str) -> dict | None:
        for r in [*rep["results"], *(rep.get("http") or [])]:
            if r["key"] == key:
                return r
        return None

    head = ["operation"]
    for rep in reports:
        s = f"{rep['scale']:g}"
        head += [f"q@{s}", f"med@{s}", f"p95@{s}", f"cpu@{s}", f"thr@{s}"]
    head += ["q ratio", "med ratio", "p95 ratio", "cpu ratio"]
    rows = []
    for key in keys:
        row = [labels[key]]
        for rep in reports:
            r = find(rep, key)
            if r is None or r.get("status") not in ("ok", "errors"):
                row += ["n/a", "", "", "", ""]
            else:
                row += [
                    _queries(r),
                    _fmt(r.get("median_ms"), 2),
                    _fmt(r.get("p95_ms"), 2),
                    _fmt(r.get("cpu_median_ms"), 2),
                    _fmt(r.get("throughput")),
                ]
        a, b = find(first, key), find(last, key)

        def ratio(name: str, a: dict | None = a, b: dict | None = b) -> str:
            if not a or not b or not a.get(name) or b.get(name) is None:
                return "—"
            return f"×{b[name] / a[name]:.2f}"

        row += [ratio("queries"), ratio("median_ms"), ratio("p95_ms"), ratio("cpu_median_ms")]
        rows.append(row)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            (str(c).ljust(w) if i == 0 else str(c).rjust(w))
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    scales = " vs ".join(f"{r['scale']:g}" for r in reports)
    out = [
        f"caseowner bench — scales {scales} (ratio = scale {last['scale']:g} / "
        f"scale {first['scale']:g})"
    ]
    for rep in reports:
        counts = rep.get("data", {}).get("counts", {})
        out.append(
            f"  scale {rep['scale']:g} ({rep['started_at']}): "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        )
    out += [line(head), line(["-" * w for w in widths]), *[line(r) for r in rows]]
    return "\n".join(out)
