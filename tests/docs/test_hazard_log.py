"""The hazard log stays true: every control names tests that exist, and every rating follows the log's own matrix.

A renamed or deleted test would otherwise leave a control in the clinical safety case that nothing proves.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"

# The automated decisions issue 11 names; each must have at least one hazard.
DECISIONS = {
    "decline",
    "redirect",
    "urgent escalation",
    "waitlisting",
    "assignment",
    "volunteer handover",
    "duplicate-person link",
    "could-not-contact",
    "withdrawal",
}
SEVERITIES = ("Minor", "Significant", "Considerable", "Major", "Catastrophic")
LIKELIHOODS = ("Very high", "High", "Medium", "Low", "Very low")
FIELDS = ("Decision", "Hazard", "Causes", "Effects", "Initial risk", "Residual risk")

HAZARD_HEADING = re.compile(r"^## (H-\d{2}) — (.+)$", re.MULTILINE)
FIELD_LINE = re.compile(r"^- \*\*(?P<name>[A-Za-z ]+)\*\*:(?P<value>.*)$")
RISK = re.compile(r"^Severity (?P<severity>[A-Za-z]+), Likelihood (?P<likelihood>[A-Za-z ]+?) → (?P<rating>\d)$")
CONTROL_ROW = re.compile(r"^\| (?P<number>\d+) \| (?P<control>[^|]+) \| (?P<proof>[^|]*) \|$", re.MULTILINE)
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


@dataclass
class Hazard:
    ident: str
    title: str
    fields: dict[str, str]
    controls: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)


def _matrix(text: str) -> dict[tuple[str, str], int]:
    """The log's own matrix, read from its table, so the check and the document cannot disagree."""
    matrix = {}
    for likelihood in LIKELIHOODS:
        row = re.search(rf"^\| {likelihood} \|(?P<cells>( \d \|){{5}})$", text, re.MULTILINE)
        assert row, f"the risk matrix has no row for likelihood {likelihood!r}"
        ratings = [int(cell) for cell in row["cells"].split("|") if cell.strip()]
        matrix.update({(severity, likelihood): rating for severity, rating in zip(SEVERITIES, ratings, strict=True)})
    return matrix


def _hazards(text: str) -> list[Hazard]:
    headings = list(HAZARD_HEADING.finditer(text))
    hazards = []
    for heading, following in zip(headings, [*headings[1:], None], strict=True):
        body = text[heading.end() : following.start() if following else len(text)]
        fields = _fields(body)
        hazard = Hazard(heading[1], heading[2], fields)
        for row in CONTROL_ROW.finditer(body):
            hazard.controls.append((row["control"].strip(), TEST_REFERENCE.findall(row["proof"])))
        hazards.append(hazard)
    return hazards


def _fields(body: str) -> dict[str, str]:
    """`- **Name**: value`, the value going on over the indented lines below it (a list of causes, say)."""
    fields: dict[str, str] = {}
    name = None
    for line in body.splitlines():
        if match := FIELD_LINE.match(line):
            name = match["name"]
            fields[name] = match["value"].strip()
        elif name and line.startswith("  ") and line.strip():
            fields[name] = f"{fields[name]} {line.strip()}".strip()
        else:
            name = None
    return fields


@cache
def _tests_in(path: str) -> frozenset[str]:
    """The test functions a file defines, at module level or in a class, read without importing it."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    )


def _risk(hazard: Hazard, name: str, matrix: dict[tuple[str, str], int]) -> int:
    match = RISK.match(hazard.fields[name])
    assert match, f"{hazard.ident}: {name} should read 'Severity S, Likelihood L → N', not {hazard.fields[name]!r}"
    severity, likelihood, rating = match["severity"], match["likelihood"], int(match["rating"])
    assert severity in SEVERITIES, f"{hazard.ident}: unknown severity {severity!r}"
    assert likelihood in LIKELIHOODS, f"{hazard.ident}: unknown likelihood {likelihood!r}"
    expected = matrix[severity, likelihood]
    assert rating == expected, f"{hazard.ident}: {name} {severity}/{likelihood} is rated {expected}, not {rating}"
    return rating


@pytest.fixture(scope="module")
def log_text() -> str:
    return LOG.read_text(encoding="utf-8")


def test_every_automated_decision_has_a_hazard_with_every_field(log_text):
    hazards = _hazards(log_text)
    assert hazards, "no hazards found: headings must read '## H-nn — title'"
    for hazard in hazards:
        missing = [name for name in FIELDS if not hazard.fields.get(name)]
        assert not missing, f"{hazard.ident} has no {', '.join(missing)}"
        assert hazard.controls, f"{hazard.ident} lists no controls"
    covered = {hazard.fields["Decision"] for hazard in hazards}
    assert covered >= DECISIONS, f"no hazard for {sorted(DECISIONS - covered)}"
    idents = [hazard.ident for hazard in hazards]
    assert len(idents) == len(set(idents)), f"a hazard number is used twice: {idents}"


def test_every_control_names_at_least_one_test_and_every_named_test_exists(log_text):
    missing = []
    for hazard in _hazards(log_text):
        for control, references in hazard.controls:
            assert references, f"{hazard.ident}: the control {control!r} names no test"
            for path, name in references:
                if not (ROOT / path).is_file() or name not in _tests_in(path):
                    missing.append(f"{hazard.ident}: {path}::{name}")
    assert not missing, "tests named in the hazard log that do not exist:\n" + "\n".join(missing)


def test_each_rating_follows_the_matrix_and_controls_never_raise_the_risk(log_text):
    matrix = _matrix(log_text)
    for hazard in _hazards(log_text):
        initial = _risk(hazard, "Initial risk", matrix)
        residual = _risk(hazard, "Residual risk", matrix)
        assert residual <= initial, f"{hazard.ident}: the residual risk {residual} is above the initial {initial}"
        assert residual <= 3, f"{hazard.ident}: a residual risk of {residual} is unacceptable"
        if residual == 3:
            assert hazard.fields.get("Open actions"), f"{hazard.ident}: an undesirable residual risk needs open actions"


def test_the_check_itself_catches_a_missing_test_and_a_wrong_rating():
    """The parser is not vacuous: a log with a made-up test and a mis-rated risk is caught on both counts."""
    broken = (
        "| Very high | 3 | 4 | 4 | 5 | 5 |\n| High | 2 | 3 | 3 | 4 | 5 |\n| Medium | 2 | 2 | 3 | 3 | 4 |\n"
        "| Low | 1 | 2 | 2 | 3 | 4 |\n| Very low | 1 | 1 | 2 | 2 | 3 |\n\n"
        "## H-99 — A made-up hazard\n\n- **Decision**: decline\n"
        "- **Residual risk**: Severity Major, Likelihood Low → 1\n"
        "| 1 | A control | `tests/docs/test_hazard_log.py::test_that_does_not_exist` |\n"
    )
    [hazard] = _hazards(broken)
    [(_, [(path, name)])] = hazard.controls
    assert name not in _tests_in(path)
    with pytest.raises(AssertionError, match="is rated 3, not 1"):
        _risk(hazard, "Residual risk", _matrix(broken))
