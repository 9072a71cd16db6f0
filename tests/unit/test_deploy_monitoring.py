"""The Grafana dashboard and the alert rules refer only to metrics sigap exports; the dashboard
is portable (a ``${datasource}`` variable on every panel and target)."""

from __future__ import annotations

import pytest

from tests.monitoring import (
    all_panels,
    dashboard,
    dashboard_queries,
    exported_names,
    metric_names,
    rule_queries,
    substitute,
)

pytestmark = pytest.mark.unit

NOT_SIGAP = {"up"}  # Prometheus' own scrape health


def test_exported_names_cover_the_design_names():
    names = exported_names()
    for name in ("sigap_device_up", "sigap_icmp_rtt_seconds", "sigap_icmp_loss_ratio",
                 "sigap_interface_oper_up", "sigap_tickets_open", "sigap_sop_step_overdue",
                 "sigap_remediation_total", "sigap_notifications_total",
                 "sigap_poll_duration_seconds_bucket", "sigap_build_info"):  # fmt: skip
        assert name in names


def test_metric_names_extraction():
    expr = 'sum by (opd) (sigap_device_state{opd=~"a{b}", state="down"}) / count(up{job="x"})'
    assert metric_names(expr) == {"sigap_device_state", "up"}
    assert substitute('rate(x{i=~"$instance"}[$__rate_interval]) ${opd:regex}') == (
        'rate(x{i=~".*"}[1m]) .*'
    )


def test_dashboard_uses_the_datasource_variable_everywhere():
    board = dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in all_panels(board):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    ids = [p["id"] for p in all_panels(board)]
    assert len(ids) == len(set(ids))


def test_dashboard_covers_the_overview():
    titles = " | ".join(p["title"] for p in all_panels(dashboard())).lower()
    for words in ("per opd", "langkah sop", "terlambat", "rtt", "loss", "interface",
                  "remediasi", "notifikasi gagal"):  # fmt: skip
        assert words in titles


@pytest.mark.parametrize(
    ("where", "expr"),
    [*dashboard_queries(), *rule_queries()],
    ids=lambda value: value if len(value) < 60 else value[:57] + "...",
)
def test_queries_refer_to_exported_metrics(where, expr):
    names = metric_names(substitute(expr))
    sigap = {n for n in names if n not in NOT_SIGAP}
    assert sigap or names == {"up"}, f"{where}: no sigap metric in {expr!r}"
    unknown = sigap - exported_names()
    assert not unknown, f"{where}: {sorted(unknown)} not exported by agent.runtime.metrics"
