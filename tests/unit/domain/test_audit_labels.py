"""Every action code the code records has Swedish words for the auditor (issue 15, item 9).

The codes are read from the source: the string constants given as `action=` to any call
(audit.record and the helpers that pass it on), assigned to a variable named `action`, or
passed by position to a function of the same module whose parameter is named `action`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.auditing.labels import ACTION_LABELS, action_label, basis_label, route_label
from domain.auditing.service import READ_ACTIONS

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("api", "audit", "common", "consent", "domain", "frontend")
CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")  # "case.read", "audit.break_glass.review"


def _constants(node: ast.AST) -> Iterator[str]:
    """The strings an expression can evaluate to: constants, and both arms of a conditional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def _action_positions(tree: ast.Module) -> dict[str, int]:
    """Functions of a module with a positional parameter named `action`, and its index."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            if "action" in names:
                found[node.name] = names.index("action")
    return found


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def recorded_actions() -> dict[str, str]:
    """Every action code in the source, with where it was found."""
    codes: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            positions = _action_positions(tree)
            for node in ast.walk(tree):
                values: list[ast.AST] = []
                if isinstance(node, ast.Call):
                    values += [k.value for k in node.keywords if k.arg == "action"]
                    index = positions.get(_called_name(node) or "")
                    if index is not None and index < len(node.args):
                        values.append(node.args[index])
                elif isinstance(node, ast.Assign | ast.AnnAssign):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    named = any(isinstance(t, ast.Name) and t.id == "action" for t in targets)
                    if named and node.value is not None:
                        values.append(node.value)
                for value in values:
                    for code in _constants(value):
                        if CODE.match(code):
                            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
                            codes.setdefault(code, where)
    return codes


def test_the_scan_finds_the_codes_recorded_in_each_way() -> None:
    codes = recorded_actions()
    assert "case.read" in codes  # audit.record(action="case.read")
    assert "meeting.read" in codes  # _read(..., action="meeting.read")
    assert "referral.list" in codes  # _audit_read(session, actor, scope, referral, "referral.list")
    assert "assessment_config.factor_retire" in codes  # action = "…" if retire else "…"
    assert "meeting.update" in codes  # action="meeting.cancel" if cancelled else "meeting.update"
    assert len(codes) > 60


def test_every_recorded_action_has_a_swedish_label() -> None:
    missing = {
        code: where for code, where in recorded_actions().items() if code not in ACTION_LABELS
    }
    assert not missing, f"add these to domain/auditing/labels.py ACTION_LABELS: {missing}"


def test_no_label_is_left_for_a_code_nothing_records() -> None:
    """Old events keep their codes, so a label may outlive its code; but a typo in the table
    would hide a missing label. Every label matches a recorded code."""
    assert set(ACTION_LABELS) <= set(recorded_actions())


def test_labels_are_words_not_codes() -> None:
    for code, label in ACTION_LABELS.items():
        assert label[:1].isupper(), code
        assert not CODE.search(label), (code, label)
        assert "_" not in label, (code, label)


def test_every_read_action_is_a_recorded_code() -> None:
    assert set(READ_ACTIONS) <= set(ACTION_LABELS)


@pytest.mark.parametrize(
    ("action", "label"),
    [
        ("GET /arenden/{case_id}", "Försökte visa: ärende"),
        ("POST /arenden/{case_id}/samtycken", "Försökte skicka: ärende › samtycken"),
        ("POST /samtycken/{consent_id}/aterkalla", "Försökte skicka: samtycken › återkallelse"),
        ("GET /api/v1/cases/{case_id}", "Försökte visa: ärende (via API)"),
        (
            "DELETE /api/v1/cases/{case_id}/team/{user_id}",
            "Försökte ta bort: ärende › team (via API)",
        ),
        ("GET /", "Försökte visa: startsidan"),
    ],
)
def test_a_denied_request_is_told_by_its_route(action: str, label: str) -> None:
    assert route_label(action) == label
    assert action_label(action) == label


@pytest.mark.parametrize(
    "action",
    ["GET /okand-sida", "GET /arenden/{case_id}/okand", "FETCH /arenden", "case.unknown", ""],
)
def test_an_unknown_code_or_route_is_marked_not_passed_off_as_known(action: str) -> None:
    assert route_label(action) is None
    assert action_label(action) == f"Händelse utan benämning ({action})"


def test_basis_label_names_a_disclosure_basis_and_nothing_else() -> None:
    assert basis_label({"kind": "consent", "consent_id": "x"}) == "Samtycke"
    assert basis_label({"kind": "own_agency"}) == "Egen enhet"
    assert basis_label({"kind": "school"}) == ""  # an agency's kind in a configuration event
    assert basis_label({}) == ""
    assert basis_label(None) == ""
