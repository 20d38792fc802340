"""The audit log's part of /healthz: cheap (index probes and one small file), no personal data.

Degraded when the sequencer refuses to sign (the log does not extend the exported checkpoint)
or its rounds fail, when it skipped checkpoint rows written behind its back, when an event has
waited longer than `stall_after` for its position (stalled: derived from the queue, so every
process sees it, leader or not), or when the export directory's note lags behind the log for
longer than `stall_after` (stale), or is missing or not this log's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from audit.repository import AuditLogRepository
from audit.sequencer import LATEST_NOTE, LogSigner, SequencerStatus
from common.clock import utcnow


@dataclass(frozen=True)
class AuditHealth:
    sequencer: str  # SequencerStatus.state, or "not_running" in a process without one
    log_size: int
    oldest_pending_seconds: int | None
    exported_size: int | None
    skipped_checkpoint_rows: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_health(
    session: Session,
    *,
    status: SequencerStatus | None,
    signer: LogSigner,
    export_dir: Path | None,
    stall_after: timedelta,
) -> AuditHealth:
    now = utcnow()
    repository = AuditLogRepository(session)
    problems: list[str] = []
    state = "not_running" if status is None else status.state
    skipped = 0 if status is None else status.skipped_checkpoint_rows
    if state == "refusing":
        problems.append("export_inconsistent")
    elif state == "failing":
        problems.append("sequencer_failing")
    if skipped:
        problems.append("checkpoint_rows_skipped")
    log_size = repository.size()
    oldest = repository.oldest_pending_at()
    waiting = None if oldest is None else max(0, int((now - oldest).total_seconds()))
    if waiting is not None and waiting > stall_after.total_seconds():
        problems.append("sequencer_stalled")
    exported_size = None
    if export_dir is not None:
        exported_size, export_problem = _export_state(
            export_dir, signer, log_size, now, stall_after
        )
        if export_problem is not None:
            problems.append(export_problem)
    return AuditHealth(
        sequencer=state,
        log_size=log_size,
        oldest_pending_seconds=waiting,
        exported_size=exported_size,
        skipped_checkpoint_rows=skipped,
        problems=problems,
    )


def _export_state(
    directory: Path, signer: LogSigner, log_size: int, now: datetime, stall_after: timedelta
) -> tuple[int | None, str | None]:
    path = directory / LATEST_NOTE
    try:
        text = path.read_text(encoding="utf-8")
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None, "export_missing" if log_size > 0 else None
    except (OSError, UnicodeDecodeError):
        return None, "export_unreadable"
    checkpoint = signer.verifies(text)
    if checkpoint is None:
        return None, "export_invalid"
    if checkpoint.size > log_size:
        return checkpoint.size, "export_inconsistent"
    if checkpoint.size < log_size and now - written > stall_after:
        return checkpoint.size, "export_stale"
    return checkpoint.size, None
