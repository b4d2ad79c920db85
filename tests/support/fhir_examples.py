"""Where the NHS conformance corpus (shared/fhir-examples) is: one rule for every test that reads it."""

from __future__ import annotations

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def fhir_examples(kind: str) -> Path:
    """shared/fhir-examples/<kind> (bars-messages, bars-operation-outcomes): under /work on these machines, else
    beside the checkout or one of its parents (CI clones main beside a copy of shared/; a worktree sits deeper)."""
    for base in (Path("/work"), *_CHECKOUT.parents):
        candidate = base / "shared" / "fhir-examples" / kind
        if candidate.is_dir():
            return candidate
    raise AssertionError(f"no shared/fhir-examples/{kind} under /work or beside {_CHECKOUT} or any of its parents")
