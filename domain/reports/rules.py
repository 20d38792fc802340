"""Pure rules of the follow-up report: how a target is judged against the safe figures, how a
release's disclosure view is kept in the ledger without the suppressed values, and how the
release as a whole is fingerprinted."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from common.errors import ValidationFailed
from domain.statistics.disclosure import Box, Cell, Release, size
from domain.statistics.render import number
from domain.statistics.spec import (
    INDICATORS,
    SUPPRESSED_MARK,
    TOTAL,
    Comparison,
    SafeFigure,
    SafeTable,
    TargetKind,
    TargetResult,
)

MAX_NARRATIVE = 10_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
UNITS = {TargetKind.COUNT: "", TargetKind.SHARE: " %", TargetKind.MEDIAN_DAYS: " dagar"}
COMPARISON_WORDS = {Comparison.AT_LEAST: "minst", Comparison.AT_MOST: "högst"}


def narrative(text: str | None) -> str:
    """The coordinator's text, trimmed; 422 naming `narrative` when too long or when it holds
    control characters (they would not survive the CSV and PDF)."""
    value = (text or "").replace("\r\n", "\n").strip()
    if len(value) > MAX_NARRATIVE:
        raise ValidationFailed.one(
            "narrative",
            f"Texten får vara högst {MAX_NARRATIVE} tecken.",
            f"The narrative is at most {MAX_NARRATIVE} characters.",
        )
    if _CONTROL.search(value):
        raise ValidationFailed.one(
            "narrative",
            "Texten innehåller otillåtna tecken.",
            "The narrative contains control characters.",
        )
    return value


# --- targets -----------------------------------------------------------------------------


def _shown_total(tables: Sequence[SafeTable], indicator: str, row: str) -> int | None:
    """The published (row, total) of an indicator: every breakdown's table has it; it is
    published when any of them shows it."""
    for table in tables:
        if table.indicator == indicator:
            value = table.values.get((row, TOTAL))
            if value is not None:
                return value
    return None


def evaluate(
    *,
    indicator: str,
    row_code: str | None,
    kind: str,
    comparison: str,
    value: float,
    label: str,
    tables: Sequence[SafeTable],
    figures: Sequence[SafeFigure],
) -> TargetResult:
    """One target against the safe results: "Ja"/"Nej", or None ("Kan inte bedömas") when the
    figure is withheld. Only published numbers are used, so the judgement discloses nothing
    the tables do not."""
    info = INDICATORS[indicator]
    actual: float | None
    if info.is_figure:
        found = next((f for f in figures if f.indicator == indicator), None)
        actual = None if found is None else found.value
    else:
        actual = _shown_total(tables, indicator, info.row_label(row_code))
    wanted = f"{COMPARISON_WORDS[Comparison(comparison)]} {number(value)}"
    wanted += UNITS[TargetKind(kind)]
    if actual is None:
        return TargetResult(indicator, label, wanted, SUPPRESSED_MARK, None)
    met = actual >= value if Comparison(comparison) == Comparison.AT_LEAST else actual <= value
    return TargetResult(indicator, label, wanted, number(actual), met)


# --- the ledger's disclosure view ----------------------------------------------------------


def disclosure_json(release: Release) -> dict[str, Any]:
    """What the ledger keeps of a release's disclosure view: every cell's key and box,
    and its value only when it was shown. A suppressed value is null: never stored."""
    cells = [
        {
            "key": list(cell.key),
            "parts": [sorted(values) for values in cell.parts],
            "value": None if cell.key in release.suppressed else cell.value,
        }
        for cell in release.cells
    ]
    suppressed = sorted(list(key) for key in release.suppressed)
    return {"format": BOXES, "cells": cells, "suppressed": suppressed}


BOXES = 2  # the ledger's format of a cell: a box; the first releases listed microcells


def _box(parts: Sequence[Sequence[str]], format_: int) -> Box:
    """A cell's box from the ledger. The first releases kept every microcell instead; those
    cells were boxes all the same, and are read as such (anything else is refused)."""
    if format_ == BOXES:
        return tuple(frozenset(values) for values in parts)
    microcells = {tuple(part) for part in parts}
    found = tuple(frozenset(values) for values in zip(*microcells, strict=True))
    if size(found) != len(microcells):
        raise ValueError("a cell of the ledger is not a box")
    return found


def release_from_json(data: Mapping[str, Any]) -> Release:
    """A `Release` for the audit of later releases. A suppressed cell gets the value 0: the
    audit reads only the shown cells' values, and treats a suppressed cell as unknown."""
    suppressed = frozenset(tuple(key) for key in data["suppressed"])
    cells = []
    for raw in data["cells"]:
        key = tuple(raw["key"])
        value = raw["value"]
        if value is None and key not in suppressed:
            raise ValueError(f"a shown cell without a value: {key}")
        cells.append(
            Cell(
                key=key,
                parts=_box(raw["parts"], data.get("format", 1)),
                value=0 if value is None else int(value),
            )
        )
    return Release(cells=tuple(cells), suppressed=suppressed)


# --- fingerprints --------------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def release_digest(
    *,
    agreement_id: uuid.UUID,
    number: int,
    activity_id: uuid.UUID,
    period_code: str,
    corrects: int | None,
    json_sha256: str,
    csv_sha256: str,
    pdf_sha256: str,
    checkpoint_size: int | None,
    checkpoint_root: str | None,
    published_by: uuid.UUID,
    published_at: datetime,
) -> str:
    """The SHA-256 of the release as a whole: of a canonical JSON manifest naming every file's
    hash and what the release was computed from, so that anyone holding the ledger row can
    recompute it and a change of any part shows."""
    manifest = {
        "format": "samsyn.statistics_release/1",
        "agreement_id": str(agreement_id),
        "number": number,
        "activity_id": str(activity_id),
        "period": period_code,
        "corrects": corrects,
        "files": {"json": json_sha256, "csv": csv_sha256, "pdf": pdf_sha256},
        "audit_checkpoint": {"size": checkpoint_size, "root": checkpoint_root},
        "published_by": str(published_by),
        "published_at": published_at.astimezone(UTC).isoformat(),
    }
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return sha256_hex(canonical.encode())
