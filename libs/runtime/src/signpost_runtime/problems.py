"""Errors as RFC 9457 problems, in the shape each path answers in.

Every failure a service meets at its HTTP edge becomes one `Problem` (problem_handlers.py says which
status each failure gets). `ErrorShapes` renders it: `application/problem+json` by default, and in
whatever shape a service registers for a path prefix (intake: OperationOutcomes under /fhir).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse, Response

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(eq=False)  # an exception compares and hashes by identity
class Problem(Exception):  # noqa: N818 (RFC 9457 names it so; it is raised and also rendered)
    """An RFC 9457 problem. Raise it from a route; the edge answers with it in the path's shape."""

    status: int
    detail: str
    errors: Sequence[FieldError] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    # "about:blank": the status code says all there is to say about the kind of problem (RFC 9457 4.2.1).
    type: str = "about:blank"

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return body


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem_response(problem: Problem) -> Response:
    return ProblemResponse(problem.body(), status_code=problem.status, headers=dict(problem.headers))


Render = Callable[[Problem], Response]


@dataclass(frozen=True)
class ErrorShape:
    """How errors are rendered on some paths, and how the OpenAPI document describes them."""

    render: Render
    media_type: str
    schema_name: str
    schema: Mapping[str, Any]


PROBLEM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem; `errors` names each field at fault when there are any",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_SHAPE = ErrorShape(problem_response, PROBLEM_JSON, "Problem", PROBLEM_SCHEMA)


class ErrorShapes:
    """Which shape errors take on which paths: problem+json unless a registered prefix says otherwise."""

    def __init__(self) -> None:
        self._by_prefix: list[tuple[str, ErrorShape]] = []

    def register(self, prefix: str, shape: ErrorShape) -> None:
        self._by_prefix.append((prefix.rstrip("/"), shape))

    def shape_for(self, path: str) -> ErrorShape:
        for prefix, shape in self._by_prefix:
            if path == prefix or path.startswith(f"{prefix}/"):
                return shape
        return PROBLEM_SHAPE

    def all(self) -> list[ErrorShape]:
        return [PROBLEM_SHAPE, *(shape for _, shape in self._by_prefix)]

    def respond(self, path: str, problem: Problem) -> Response:
        return self.shape_for(path).render(problem)


def shapes_of(app: Any) -> ErrorShapes:
    shapes: ErrorShapes = app.state.error_shapes
    return shapes
