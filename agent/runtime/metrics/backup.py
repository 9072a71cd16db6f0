"""Metrics of the configuration backup (issue 22), against an injected registry.

=========================================================  =================================
metric                                                     meaning
=========================================================  =================================
``sigap_config_backup_ok{device}``                         1 last backup worked, 0 failed
``sigap_config_backup_failed_nights{device}``              scheduled failures in a row
``sigap_config_backup_last_success_timestamp_seconds{device}``  time of the last good backup
``sigap_config_backups_total{result}``                     ok or the failure kind
``sigap_config_changes_total{trigger}``                    jadwal, remediasi, pengguna, tiket
=========================================================  =================================

Labels are bounded: device names and fixed slugs (:data:`RESULTS`, :data:`TRIGGERS`); an
unknown failure kind counts as ``other``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from prometheus_client import Counter, Gauge

if TYPE_CHECKING:
    from datetime import datetime

    from prometheus_client import CollectorRegistry

RESULTS: Final = frozenset(
    {"ok", "auth", "timeout", "connect", "host_key", "protocol", "refused", "command", "repo",
     "busy"}
)  # fmt: skip
TRIGGERS: Final = frozenset({"jadwal", "remediasi", "pengguna", "tiket"})


@dataclass(frozen=True, slots=True)
class BackupMetrics:
    """The backup's gauges and counters."""

    ok: Gauge
    failed_nights: Gauge
    last_success: Gauge
    backups: Counter
    changes: Counter

    def finished(self, device: str, kind: str, at: datetime, failed_nights: int) -> None:
        """One backup of ``device`` ended (``kind`` "" = it worked)."""
        self.ok.labels(device).set(0 if kind else 1)
        self.failed_nights.labels(device).set(failed_nights)
        if not kind:
            self.last_success.labels(device).set(at.timestamp())
        result = kind or "ok"
        self.backups.labels(result if result in RESULTS else "other").inc()

    def changed(self, trigger: str) -> None:
        """A saved configuration differed from the previous one."""
        word = trigger.split(" ", 1)[0]
        self.changes.labels(word if word in TRIGGERS else "other").inc()


def build_backup_metrics(registry: CollectorRegistry) -> BackupMetrics:
    """Define the backup metrics on ``registry``."""
    return BackupMetrics(
        ok=Gauge(
            "sigap_config_backup_ok", "Last configuration backup worked (1) or failed (0).",
            ["device"], registry=registry,
        ),
        failed_nights=Gauge(
            "sigap_config_backup_failed_nights", "Scheduled configuration backups failed in a row.",
            ["device"], registry=registry,
        ),
        last_success=Gauge(
            "sigap_config_backup_last_success_timestamp_seconds",
            "Unix time of the last good configuration backup.", ["device"], registry=registry,
        ),
        backups=Counter(
            "sigap_config_backups", "Configuration backups by result.", ["result"],
            registry=registry,
        ),
        changes=Counter(
            "sigap_config_changes", "Saved configuration changes by trigger.", ["trigger"],
            registry=registry,
        ),
    )  # fmt: skip
