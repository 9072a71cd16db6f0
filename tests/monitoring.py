"""Helpers for the monitoring deploy files: queries of the dashboard and rules, exported names."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry
from ruamel.yaml import YAML

from agent.runtime.metrics import Metrics

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS_DIR / "sigap-rules.yml"
RULE_TESTS = PROMETHEUS_DIR / "tests" / "sigap-rules.test.yml"
SCRAPE_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "sigap.json"

# Grafana's built-in variables and the dashboard's own, replaced by something PromQL accepts
_DURATIONS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SIGAP_NAME = re.compile(r"\bsigap_[a-z0-9_]+")
_SELECTOR_NAME = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{")
_LABEL_VALUES = re.compile(r"^label_values\((.*),\s*(\w+)\)$")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "gauge": ("",),
}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def all_panels(board: dict) -> list[dict]:
    out = []
    for panel in board["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # panels nested in collapsed rows
    return out


def dashboard_queries(board: dict | None = None) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable's selector."""
    board = board or dashboard()
    out = [
        (f"panel {p['id']} {p['title']!r} {t['refId']}", t["expr"])
        for p in all_panels(board)
        for t in p.get("targets", [])
    ]
    for var in board["templating"]["list"]:
        if var["type"] != "query":
            continue
        query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        match = _LABEL_VALUES.match(query)
        assert match, f"variable {var['name']}: only label_values(selector, label) is used"
        out.append((f"variable {var['name']}", match.group(1)))
    return out


def rule_queries() -> list[tuple[str, str]]:
    doc = YAML(typ="safe").load(RULES.read_text(encoding="utf-8"))
    return [
        (rule.get("alert") or rule["record"], rule["expr"])
        for group in doc["groups"]
        for rule in group["rules"]
    ]


def substitute(expr: str) -> str:
    """Replace Grafana variables: durations by ``1m``/``1h``, the others by ``.*``."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return _DURATIONS.get(name, ".*")

    return _VARIABLE.sub(repl, expr)


def metric_names(expr: str) -> set[str]:
    """Metric names in ``expr``: every ``sigap_*`` word and every ``name{`` selector."""
    bare = _STRING.sub('""', expr)  # label values may contain anything
    return set(_SIGAP_NAME.findall(bare)) | set(_SELECTOR_NAME.findall(bare))


def exported_names() -> set[str]:
    """Every series name a fresh :class:`agent.runtime.metrics.Metrics` registry can expose."""
    registry = CollectorRegistry()
    Metrics(registry)
    names = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return names
