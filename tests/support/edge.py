"""Checks of a service's HTTP edge: malformed requests are 4xx, and the OpenAPI document says what is answered."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

METHODS = ("get", "put", "post", "delete", "patch")

# what is wrong: (query string to add, the field the 400 must name)
MALFORMED_QUERIES = {
    "NUL in a query value": ("q=%00abc", "q"),
    "a newline in a query value": ("q=a%0Ab", "q"),
    "percent-encoding that is not UTF-8": ("q=%C3%28", "q"),
    "a lone surrogate": ("q=%ED%A0%80", "q"),
    "an over-long query value": ("q=" + "x" * 5000, "q"),
}
MALFORMED_PATH_VALUES = {
    "NUL in a path parameter": "%00abc",
    "a lone surrogate in a path parameter": "%ED%B2%80",
    "an over-long path parameter": "x" * 5000,
}
MALFORMED_HEADER = {"X-Correlation-ID": "abc\x00def"}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def with_path_values(template: str, value: str) -> str:
    """The template with every {parameter} replaced by `value`."""
    parts = [value if part.startswith("{") and part.endswith("}") else part for part in template.split("/")]
    return "/".join(parts)


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


@dataclass
class Conformance:
    """What probing every documented operation found."""

    undocumented: list[str] = field(default_factory=list)
    protected: set[tuple[str, str]] = field(default_factory=set)
    server_errors: list[str] = field(default_factory=list)


async def probe(client: httpx.AsyncClient, document: dict[str, Any], *, authorised: dict[str, str],
                wrong_scope: dict[str, str]) -> Conformance:  # fmt: skip
    """Send every documented operation requests that succeed and requests that must fail; compare with the doc.

    Each answer's status must be documented for the operation, with the media type it came in.
    """
    found = Conformance()
    for path, method, operation in operations(document):
        url = with_path_values(path, str(uuid.uuid4()))
        probes = {
            "anonymous": (url, {}),
            "a token without the scope": (url, wrong_scope),
            "authorised": (url, authorised),
            "NUL in the query": (f"{url}?q=%00", authorised),
            "a control character in a header": (url, {**authorised, **MALFORMED_HEADER}),
        }
        if "{" in path:
            probes["bad UTF-8 in the path"] = (with_path_values(path, "%C3%28"), authorised)
        for name, (target, headers) in probes.items():
            response = await client.request(method.upper(), target, headers=headers)
            status = str(response.status_code)
            where = f"{method.upper()} {path} with {name}: {status} {media_type(response)}"
            if response.status_code >= 500:
                found.server_errors.append(f"{where}: {response.text[:200]}")
            if name == "anonymous" and status == "401":
                found.protected.add((path, method))
            documented = operation["responses"].get(status)
            if documented is None:
                found.undocumented.append(f"{where} is not documented")
            elif "content" in documented and media_type(response) not in {
                m.split(";")[0].strip() for m in documented["content"]
            }:
                found.undocumented.append(f"{where}: documented as {list(documented['content'])}")
    return found


def assert_truthful(document: dict[str, Any], found: Conformance, *, error_media_type: str) -> None:
    """What every service's document must say, whatever its routes."""
    assert not found.server_errors, found.server_errors
    assert not found.undocumented, found.undocumented
    assert "HTTPValidationError" not in str(document), "FastAPI's fictional 422 is still documented"
    for path, method, operation in operations(document):
        responses = operation["responses"]
        assert "422" not in responses or "HTTPValidationError" not in str(responses["422"]), (path, method)
        if path.startswith("/health") or path == "/metrics":
            continue
        assert error_media_type in responses["400"]["content"], (path, method)
    for path, method in found.protected:
        responses = document["paths"][path][method]["responses"]
        assert {"401", "403"} <= set(responses), f"{method.upper()} {path} needs a token but does not say so"
        assert document["paths"][path][method]["security"] == [{"bearerAuth": []}], (path, method)
    assert found.protected, "the probe found no protected route: the check cannot have worked"
    metrics = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain; version=0.0.4"]
    for health in ("/health/live", "/health/ready"):
        assert set(document["paths"][health]["get"]["responses"]) >= {"200", "503"}
        assert list(document["paths"][health]["get"]["responses"]["200"]["content"]) == ["application/json"]


def malformed_requests(url: str) -> list[tuple[str, dict[str, str], str]]:
    """(target, extra headers, field the 400 must name) for every malformed variant of `url` (a path template)."""
    base = with_path_values(url, "abc")
    separator = "&" if "?" in base else "?"
    variants = [(f"{base}{separator}{query}", {}, name) for query, name in MALFORMED_QUERIES.values()]
    if "{" in url:
        variants += [(with_path_values(url, value), {}, "path") for value in MALFORMED_PATH_VALUES.values()]
    return [*variants, (base, MALFORMED_HEADER, "x-correlation-id")]
