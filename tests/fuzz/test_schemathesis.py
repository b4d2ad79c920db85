"""schemathesis against every service's OpenAPI, each service on a real uvicorn on the real stack.

Every operation of referral_intake, triage, notifications and reporting is fuzzed from its own
document (examples, coverage of each parameter's edges, then generated valid and invalid requests)
with a token holding every scope, with no token, and with a token holding no Signpost scope. All
of schemathesis' checks must pass: no server error, and status code, media type, headers and body
as documented; invalid requests refused, valid ones accepted, auth enforced.

One exception, for the three operations that take a ServiceRequest: POST /fhir/ServiceRequest takes a
FHIR R4 ServiceRequest, and the rules that make one acceptable (references that resolve, a valid NHS
number, a requester with an ODS code, the social prescribing code...) are not expressible in OpenAPI;
PUT and PATCH of /fhir/ServiceRequest/{id} are withdrawals, accepted only when the result is the stored
referral with nothing changed but its status, now revoked or entered-in-error. A schema-valid body is
usually refused there, rightly: positive_data_acceptance is off for those three. The FHIR fuzzer
(test_fhir_fuzzer.py) sends POST real and mutated referrals instead, and tests/referral_intake's
withdrawal tests cover PUT and PATCH. Likewise reporting's exports, whose period must not end before it
starts (422, tests/reporting/test_exports.py): two dates' order is not expressible in OpenAPI either,
nor the dashboard's longest period of 366 days (422, tests/reporting/test_dashboard_views.py).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st

from fuzz.stack import KNOWN, SERVICES, documented, running_stack
from fuzz.summary import record_summary
from signpost_contracts.vocabulary import Scope
from support.auth import token

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # The services' Kafka clients draw from `random` in their own threads while hypothesis generates a
    # case, which hypothesis takes for a strategy using `random`; the cases themselves never do.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"),
]

# Generated cases per operation, beyond its examples and the coverage phase's edge cases. Without a
# usable token most requests stop at the token check, so those runs need fewer.
DEFAULT_EXAMPLES = {"every scope": 50, "no token": 15, "no Signpost scope": 15}
FUZZ_EXAMPLES = int(os.environ.get("SIGNPOST_FUZZ_EXAMPLES", "1000"))  # every run, under `-m fuzz`

# Where FHIR's rules decide what is accepted and OpenAPI cannot say them (see the module docstring).
RULES_NOT_IN_OPENAPI = [
    ("/fhir/ServiceRequest", "POST"),
    ("/fhir/ServiceRequest/{referral_id}", "PUT"),
    ("/fhir/ServiceRequest/{referral_id}", "PATCH"),
    ("/api/exports/referrals", "GET"),
    ("/api/exports/outcomes", "GET"),
    ("/api/referrers/{ods_code}/feedback", "GET"),
    ("/api/dashboard", "GET"),
    # A period whose `until` is not after its `since` is refused (422); OpenAPI cannot relate two parameters.
    ("/access-log", "GET"),
]

# Each service is fuzzed three times: with a token holding every scope, with none (schemathesis then makes
# up Authorization headers of its own), and with a valid token holding no Signpost scope.
TOKENS = {
    "every scope": token(*Scope, ods="B82005"),
    "no token": None,
    "no Signpost scope": token("openid", "profile", ods="B82005"),
}


def _config(max_examples: int, bearer: str | None) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "generation": {
                "deterministic": True,
                "database": "none",
                "max-examples": max_examples,
                # A query parameter no operation declares is ignored (FHIR search ignores unknown
                # parameters unless asked to be strict), which schemathesis would count as accepting
                # invalid input. The edge's checks of every query value are tested in tests/*/test_edge.py.
                "allow-extra-parameters": False,
                # No NUL in generated text: PostgreSQL cannot store it, so every text field refuses it (422, or
                # 400 at the edge), which is right but not expressible in OpenAPI. Tested where it is refused:
                # tests/referral_intake/test_case_rules_unit.py and tests/runtime/test_edge_unit.py.
                "allow-x00": False,
            },
            # Data taken from earlier responses (server-made ids) would make each run's cases differ.
            "phases": {"fuzzing": {"extra-data-sources": {"responses": False}}},
            "auth": {"openapi": {"bearerAuth": {"bearer": bearer}}} if bearer else {},
            "operations": [
                {
                    "include-path": path,
                    "include-method": method,
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                }
                for path, method in RULES_NOT_IN_OPENAPI
            ],
        }
    )


def _with_known_ids(schema: schemathesis.BaseSchema) -> schemathesis.BaseSchema:
    """Ids drawn from the seeded referrals as often as made-up ones, so reads of real records are fuzzed too."""

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
        return _or_known(path_parameters, {"referral_id": KNOWN.referral_ids, "task_id": KNOWN.task_ids})

    @schema.hook
    def flatmap_query(context: Any, query: Any) -> st.SearchStrategy[Any]:
        focus = [f"ServiceRequest/{referral_id}" for referral_id in KNOWN.referral_ids]
        return _or_known(query, {"referral_id": KNOWN.referral_ids, "focus": focus})

    return schema


def _or_known(values: Any, known: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    if not isinstance(values, dict):
        return st.just(values)
    names = [name for name in values if known.get(name)]
    if not names:
        return st.just(values)
    real = st.tuples(*(st.sampled_from(known[name]) for name in names))
    return st.just(values) | real.map(lambda ids: {**values, **dict(zip(names, ids, strict=True))})


def _schemas(examples: dict[str, int]) -> dict[str, schemathesis.BaseSchema]:
    schemas = {}
    for credentials, bearer in TOKENS.items():
        for service in SERVICES:
            name = f"{service} with {credentials}"
            # The vendor extension tells the test which service (and which run) a case belongs to.
            document = {**DOCUMENTS[service], "x-fuzzed-as": {"service": service, "run": name}}
            config = _config(examples[credentials], bearer)
            schemas[name] = _with_known_ids(schemathesis.openapi.from_dict(document, config=config))
    return schemas


DOCUMENTS = {service: documented(service) for service in SERVICES}


@pytest.fixture(scope="module")
def stack(infrastructure) -> Iterator[dict[str, str]]:
    with running_stack(infrastructure) as urls:
        yield urls


@pytest.fixture(scope="module")
def answers(request) -> Iterator[dict[str, Counter[int]]]:
    """Statuses answered, per service and credentials, for the run's summary."""
    seen: dict[str, Counter[int]] = defaultdict(Counter)
    yield seen
    for run, statuses in sorted(seen.items()):
        shown = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
        record_summary(request, f"schemathesis, {run}: {statuses.total()} requests; statuses {shown}")


def _call_and_validate(case: schemathesis.Case, stack: dict[str, str], answers: dict[str, Counter[int]]) -> None:
    fuzzed_as = case.operation.schema.raw_schema["x-fuzzed-as"]
    response = case.call_and_validate(base_url=stack[fuzzed_as["service"]])
    answers[fuzzed_as["run"]][response.status_code] += 1


@schemathesis.pytest.parametrize(**_schemas(DEFAULT_EXAMPLES))
def test_every_operation_of_every_service_answers_as_its_openapi_document_says(case, stack, answers):
    _call_and_validate(case, stack, answers)


@pytest.mark.fuzz
@pytest.mark.timeout(4 * 3600)
@schemathesis.pytest.parametrize(**_schemas(dict.fromkeys(TOKENS, FUZZ_EXAMPLES)))
def test_a_larger_run_finds_no_operation_answering_other_than_documented(case, stack, answers):
    _call_and_validate(case, stack, answers)
