"""schemathesis against the generated OpenAPI document: no 5xx, no response that breaks the
document (status codes, content types, response schemas). Bounded: a few examples per operation.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
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
