"""schemathesis against the generated OpenAPI document.

Two tests: a bounded one with positive data per operation that holds every response to the
document (status codes, content types, response schemas), and one that runs schemathesis's own
engine — the same one `schemathesis run` uses — over the whole API in every phase (examples,
coverage, fuzzing; stateful when the document has links), with positive and negative data, and
counts the answers: not one may be a 5xx.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.engine.run import PhaseName
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 10
#: Fuzzing examples per operation and generation mode in the all-phases run (the coverage phase
#: adds its own boundary cases per operation): sized to run in about a minute per store.
FUZZ_EXAMPLES_PER_OPERATION = 50


def test_the_api_keeps_to_its_openapi_document(web_app: Any, token: Any) -> None:
    headers = token("both")  # an officer who is also an approver: reads, audits, commands
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", web_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))  # fmt: skip
        def keeps_to_the_document(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        keeps_to_the_document()


def all_phases_config(headers: dict[str, str]) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": 8,
        "cache": {"enabled": False},  # nothing written into the work tree
        "headers": headers,
        "generation": {"mode": "all", "max-examples": FUZZ_EXAMPLES_PER_OPERATION,
                       "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": 20},
        },
        "checks": {"enabled": False, "not_a_server_error": {"enabled": True}},
    })  # fmt: skip


def _views_behind(response: Any) -> bool:
    """503 `views_behind` is the documented answer to a `min_position` the views have not reached
    yet (no worker follows the log in this test); it says "retry", and is no server error."""
    if response.status_code != 503:
        return False
    try:
        return response.json()["code"] == "views_behind"
    except (ValueError, KeyError, TypeError):
        return False


def test_every_phase_over_the_whole_api_gives_no_5xx(web_app: Any, token: Any) -> None:
    headers = token("both")
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", web_app, config=all_phases_config(headers)
    )
    statuses: Counter[int] = Counter()
    by_phase: Counter[str] = Counter()
    server_errors: list[str] = []
    engine_errors: list[str] = []
    phases_run: dict[str, str] = {}
    operations: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseFinished):
            skipped = event.phase.skip_reason
            phases_run[event.phase.name.value] = skipped.value if skipped else "ran"
        elif isinstance(event, events.ScenarioFinished):
            operations.add(event.recorder.label)
            for interaction in event.recorder.interactions.values():
                if interaction.response is None:
                    continue
                status = interaction.response.status_code
                statuses[status] += 1
                by_phase[event.phase.value] += 1
                if status >= 500 and not _views_behind(interaction.response):
                    request = interaction.request
                    server_errors.append(f"{status} {request.method} {request.uri}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            engine_errors.append(f"{type(event).__name__}: {getattr(event, 'value', event)!r}")
    print(f"\nschemathesis all phases: {sum(statuses.values())} requests, by phase "
          f"{dict(by_phase)}, statuses {dict(sorted(statuses.items()))}, phases {phases_run}")  # fmt: skip
    assert server_errors == [], "\n".join(server_errors[:20])
    assert engine_errors == []
    for phase in (PhaseName.EXAMPLES, PhaseName.COVERAGE, PhaseName.FUZZING):
        assert phases_run.get(phase.value) == "ran", phases_run
    # stateful needs links between operations; the document has none, so it is not applicable
    assert phases_run.get(PhaseName.STATEFUL_TESTING.value) in {"ran", "not_applicable"}
    assert len(operations) >= 11
    assert by_phase["coverage"] > 0 and by_phase["fuzzing"] > 0
    # negative data reached the API and was answered with 4xx
    assert sum(n for status, n in statuses.items() if 400 <= status < 500) > 0
