"""Validating a custom resource against its CRD's openAPIV3Schema, strictly.

The API server prunes fields a structural schema does not name, silently: a misspelt field in a
Cluster is dropped, not refused. Here an object schema that lists `properties` is closed
(additionalProperties false) unless it says x-kubernetes-preserve-unknown-fields, so a misspelt or
misplaced field fails. `nullable` becomes a null type; CEL rules (x-kubernetes-validations) are not
evaluated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRDS = Path(__file__).parent / "crds"


def _strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _strict(value) for key, value in schema.items() if not key.startswith("x-kubernetes-")}
    if "properties" in schema:
        # Map keys are names, not schemas: convert each property's schema, not the map.
        converted["properties"] = {name: _strict(value) for name, value in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in schema:
            converted["additionalProperties"] = False
    if schema.get("nullable") and "type" in schema:
        converted["type"] = [schema["type"], "null"]
    converted.pop("nullable", None)
    return converted


def schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict JSON schema of that version's served resource."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        for version in crd["spec"]["versions"]:
            api_version = f"{crd['spec']['group']}/{version['name']}"
            found[(api_version, crd["spec"]["names"]["kind"])] = _strict(version["schema"]["openAPIV3Schema"])
    return found


def errors(resource: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    # metadata is the API server's to check (names, labels), not the CRD's.
    body = {key: value for key, value in resource.items() if key != "metadata"}
    schema = {
        **schema,
        "properties": {k: v for k, v in schema["properties"].items() if k != "metadata"},
        "required": [name for name in schema.get("required", []) if name != "metadata"],
    }
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(body)]
