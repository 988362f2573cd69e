"""deploy/alerts.yml: well-formed rules whose expressions name only series caseowner exports.

``promtool check rules`` runs when promtool is installed; this test runs everywhere.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

RULES = Path(__file__).resolve().parents[2] / "deploy" / "alerts.yml"
SERIES = re.compile(r"\b(caseowner_[a-z_]+)\b")


@pytest.fixture
def exported_series(db, client, settings) -> set[str]:
    """Every series name a scrape shows (counters with their _total suffix)."""
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", ["127.0.0.1"]
    text = client.get("/metrics").content.decode()
    return {
        family.name + ("_total" if family.type == "counter" else "")
        for family in text_string_to_metric_families(text)
    }


def rules() -> list[dict]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_is_an_alert_with_an_expression_a_summary_and_a_severity():
    for rule in rules():
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"]


def test_every_expression_names_series_the_product_exports(exported_series):
    exported = exported_series
    for rule in rules():
        named = set(SERIES.findall(rule["expr"]))
        assert named, rule["alert"]
        assert named <= exported, (rule["alert"], named - exported)


def test_the_alerts_the_runbook_promises_are_there():
    alerts = {rule["alert"] for rule in rules()}
    assert {
        "CaseownerDeliveryLagging",
        "CaseownerDeliveriesFailing",
        "CaseownerSweepStopped",
        "CaseownerPromisesMissedAboveNorm",
    } <= alerts


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool is not installed")
def test_promtool_accepts_the_rules():
    subprocess.run(["promtool", "check", "rules", str(RULES)], check=True)
