"""The kit's OpenAPI correction: what every service's document says beyond FastAPI's guesses."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Query, Request

from signpost_runtime.auth import Principal, scope_required
from signpost_runtime.http import install_edge
from signpost_runtime.openapi import page_responses, problem_responses
from signpost_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit

Reader = Annotated[Principal, Depends(scope_required("x:read"))]


def _document() -> dict[str, Any]:
    app = FastAPI()
    install_edge(app, ServiceSettings(max_parameter_length=300))

    @app.get("/things/{thing_id}", responses=problem_responses(401, 403, 404, 503))
    async def thing(
        thing_id: str, _: Reader, tag: Annotated[str | None, Query(max_length=20)] = None
    ) -> dict[str, str]:
        return {}

    @app.post("/uploads", openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    async def upload(request: Request) -> dict[str, str]:
        return {}

    @app.get("/page", responses=page_responses(401))
    async def page() -> dict[str, str]:
        return {}

    return app.openapi()


def test_fastapis_fictional_422_becomes_the_400_problem_the_edge_answers():
    document = _document()
    responses = document["paths"]["/things/{thing_id}"]["get"]["responses"]
    assert "422" not in responses
    assert responses["400"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail"}


def test_every_operation_lists_the_400_and_a_body_the_413():
    paths = _document()["paths"]
    assert all("400" in item[method]["responses"] for item in paths.values() for method in item)
    assert "413" in paths["/uploads"]["post"]["responses"]
    assert "413" not in paths["/page"]["get"]["responses"]


def test_a_route_that_answers_401_needs_a_bearer_token_and_says_how_503_and_401_are_answered():
    document = _document()
    operation = document["paths"]["/things/{thing_id}"]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "Retry-After" in operation["responses"]["503"]["headers"]
    assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
    assert "security" not in document["paths"]["/uploads"]["post"]
    assert list(document["paths"]["/page"]["get"]["responses"]["401"]["content"]) == ["text/html"]


def test_string_parameters_state_the_edges_rules_for_them():
    parameters = {p["name"]: p["schema"] for p in _document()["paths"]["/things/{thing_id}"]["get"]["parameters"]}
    assert (parameters["thing_id"]["pattern"], parameters["thing_id"]["maxLength"]) == (r"^[^\x00-\x1f\x7f]*$", 300)
    [text, _] = parameters["tag"]["anyOf"]
    assert text["maxLength"] == 20, "a route's own tighter limit stands"
