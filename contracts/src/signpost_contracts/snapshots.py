"""Committed JSON Schema snapshots of every event payload.

python -m signpost_contracts.snapshots           check: exit 1 if a snapshot is missing or stale
python -m signpost_contracts.snapshots --write   refresh them; refuses a change that breaks consumers
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from signpost_contracts.compatibility import breaking_changes
from signpost_contracts.registry import EVENT_TYPES, EventType

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "schemas"


def current_schema(event_type: EventType) -> dict[str, Any]:
    schema = event_type.model.model_json_schema()
    schema["$id"] = f"https://signpost.dev/schemas/{event_type.name}.json"
    schema["x-signpost-producer"] = event_type.producer
    schema["x-signpost-stream"] = event_type.stream.value
    return schema


def snapshot_path(event_type: EventType) -> Path:
    return SNAPSHOT_DIR / f"{event_type.name}.json"


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def review() -> tuple[list[str], list[str]]:
    """(breaking problems, stale or missing snapshot names) for every registered event type."""
    breaking: list[str] = []
    stale: list[str] = []
    for event_type in EVENT_TYPES.values():
        path = snapshot_path(event_type)
        schema = current_schema(event_type)
        if not path.exists():
            stale.append(event_type.name)
            continue
        committed = json.loads(path.read_text())
        breaking += [f"{event_type.name} {problem}" for problem in breaking_changes(committed, schema)]
        if path.read_text() != render(schema):
            stale.append(event_type.name)
    return breaking, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    breaking, stale = review()
    if breaking:
        print("These changes would break existing consumers; publish a new event version instead:", file=sys.stderr)
        print("\n".join(f"  {problem}" for problem in breaking), file=sys.stderr)
        return 1
    if not args.write:
        if stale:
            print(f"stale or missing snapshots: {', '.join(stale)}; run `make schemas`", file=sys.stderr)
        return 1 if stale else 0
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    for event_type in EVENT_TYPES.values():
        snapshot_path(event_type).write_text(render(current_schema(event_type)))
    print(f"wrote {len(EVENT_TYPES)} snapshots to {SNAPSHOT_DIR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
