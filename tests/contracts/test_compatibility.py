"""The consumer-compatibility check behind the committed schema snapshots."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

from signpost_contracts.compatibility import breaking_changes
from signpost_contracts.snapshots import review

pytestmark = pytest.mark.unit


class Inner(BaseModel):
    code: str


class Before(BaseModel):
    referral_id: str
    score: int
    kind: Literal["paid", "volunteer"]
    inner: Inner
    tags: list[str] = []
    note: str | None = None


def _schema(model: type[BaseModel]) -> dict:
    return model.model_json_schema()


def test_adding_an_optional_field_breaks_no_consumer():
    class After(Before):
        extra: str | None = None

    assert breaking_changes(_schema(Before), _schema(After)) == []


def test_removing_a_field_is_reported():
    class After(BaseModel):
        referral_id: str
        kind: Literal["paid", "volunteer"]
        inner: Inner
        tags: list[str] = []
        note: str | None = None

    assert breaking_changes(_schema(Before), _schema(After)) == ["$.score: field removed"]


def test_changing_a_field_type_is_reported():
    class After(Before):
        score: str  # type: ignore[assignment]

    assert breaking_changes(_schema(Before), _schema(After)) == ["$.score: type changed from ['integer'] to ['string']"]


def test_a_new_required_field_is_reported():
    class After(Before):
        must_have: str

    assert breaking_changes(_schema(Before), _schema(After)) == ["$.must_have: field is now required"]


def test_a_new_enum_value_is_reported_because_old_consumers_would_reject_it():
    class After(Before):
        kind: Literal["paid", "volunteer", "student"]  # type: ignore[assignment]

    problems = breaking_changes(_schema(Before), _schema(After))
    assert problems == ["$.kind: new value(s) [\"'student'\"] that existing consumers do not know"]


def test_a_change_inside_a_nested_model_is_reported_with_its_path():
    class InnerAfter(BaseModel):
        code: int

    class After(Before):
        inner: InnerAfter  # type: ignore[assignment]

    assert breaking_changes(_schema(Before), _schema(After)) == [
        "$.inner.code: type changed from ['string'] to ['integer']"
    ]


def test_the_committed_snapshots_match_the_contracts_and_nothing_breaks_a_consumer():
    breaking, stale = review()
    assert breaking == [], "a breaking change needs a new event type version"
    assert stale == [], "run `make schemas` and commit contracts/schemas"
