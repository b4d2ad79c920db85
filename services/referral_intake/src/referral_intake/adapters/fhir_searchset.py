"""A search's answer: a FHIR R4 searchset Bundle (total, self and next links, entries with fullUrl and mode)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle


def searchset(
    resources: list[dict[str, Any]],
    base_url: str,
    self_url: str,
    *,
    total: int | None = None,
    next_url: str | None = None,
) -> dict[str, Any]:
    """`total` counts every match, not only this page's (FHIR Bundle.total); it is this page's when not given."""
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(resources) if total is None else total,
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base_url}/fhir/{resource['resourceType']}/{resource['id']}",
                    "resource": resource,
                    "search": {"mode": "match"},
                }
                for resource in resources
            ],
        }
    )
    result: dict[str, Any] = bundle.model_dump(mode="json", by_alias=True, exclude_none=True)
    return result
