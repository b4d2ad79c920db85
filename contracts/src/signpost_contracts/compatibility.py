"""Would a new payload schema break a consumer written against the old one?

Consumers read tolerantly (unknown fields ignored), so adding an optional field is safe. These
break a consumer: a field removed, a field's type changed, a field newly required, an enum or
constant gaining a value the consumer has never seen. A breaking change needs a new event type
version (e.g. `referral.received.v2`), published alongside the old one during migration.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _resolve(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = root.get("$defs", {})[name]
    return schema


def _variants(schema: Schema, root: Schema) -> list[Schema]:
    schema = _resolve(schema, root)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return [variant for option in options for variant in _variants(option, root)]
    return [schema]


def _kind(schema: Schema) -> str:
    if "const" in schema or "enum" in schema:
        return "enum"
    kind = schema.get("type", "any")
    return kind if isinstance(kind, str) else "|".join(sorted(kind))


def _values(variants: list[Schema]) -> set[str]:
    values: set[str] = set()
    for variant in variants:
        if "const" in variant:
            values.add(repr(variant["const"]))
        values.update(repr(v) for v in variant.get("enum", ()))
    return values


def _compare(path: str, old: Schema, new: Schema, old_root: Schema, new_root: Schema) -> list[str]:
    old_variants, new_variants = _variants(old, old_root), _variants(new, new_root)
    old_kinds = {_kind(v) for v in old_variants}
    new_kinds = {_kind(v) for v in new_variants}
    problems: list[str] = []
    if not new_kinds <= old_kinds and "any" not in old_kinds:
        problems.append(f"{path}: type changed from {sorted(old_kinds)} to {sorted(new_kinds)}")
    added_values = _values(new_variants) - _values(old_variants)
    if "enum" in old_kinds and added_values:
        problems.append(f"{path}: new value(s) {sorted(added_values)} that existing consumers do not know")
    old_objects = [v for v in old_variants if _kind(v) == "object"]
    new_objects = [v for v in new_variants if _kind(v) == "object"]
    if old_objects and new_objects:
        problems += _compare_objects(path, old_objects[0], new_objects[0], old_root, new_root)
    old_items = [v["items"] for v in old_variants if _kind(v) == "array" and "items" in v]
    new_items = [v["items"] for v in new_variants if _kind(v) == "array" and "items" in v]
    if old_items and new_items:
        problems += _compare(f"{path}[]", old_items[0], new_items[0], old_root, new_root)
    return problems


def _compare_objects(path: str, old: Schema, new: Schema, old_root: Schema, new_root: Schema) -> list[str]:
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in sorted(set(old_props) - set(new_props)):
        problems.append(f"{path}.{name}: field removed")
    for name in sorted(set(new.get("required", ())) - set(old.get("required", ()))):
        problems.append(f"{path}.{name}: field is now required")
    for name in sorted(set(old_props) & set(new_props)):
        problems += _compare(f"{path}.{name}", old_props[name], new_props[name], old_root, new_root)
    return problems


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every way `new` would break a consumer of `old`; empty when the change is safe."""
    return _compare("$", old, new, old, new)
