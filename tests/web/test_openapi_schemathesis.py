"""schemathesis against the API's own OpenAPI document, over loopback HTTP.

Every operation gets generated valid and invalid parameters (hostile strings,
huge numbers, odd dates and paths); each response must not be a server error
and must match the status codes, content type and schema the document states.
(schemathesis's own pytest loader does not run under this pytest version, so
the operations are listed here and a test checks the list is complete.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.schemas import OpenApiSchema

pytestmark = pytest.mark.slow

OPERATIONS = [
    ("GET", "/api/v1/health"), ("GET", "/api/v1/stats"), ("GET", "/api/v1/categories"),
    ("GET", "/api/v1/daily"), ("GET", "/api/v1/trending"), ("GET", "/api/v1/search"),
    ("GET", "/api/v1/papers/{ref}/related"), ("GET", "/api/v1/papers/{ref}"),
    ("GET", "/api/v1/authors"), ("GET", "/api/v1/authors/{key}"), ("GET", "/api/v1/session"),
    ("GET", "/api/v1/datasets"), ("GET", "/api/v1/datasets/{name}"), ("GET", "/api/v1/tasks"),
    ("GET", "/api/v1/tasks/{name}"),
    ("GET", "/api/v1/me"), ("PUT", "/api/v1/papers/{ref}/rating"),
    ("POST", "/api/v1/library/{ref}"), ("DELETE", "/api/v1/library/{ref}"),
    ("GET", "/api/v1/library"),
    ("POST", "/api/v1/papers/{ref}/vote"), ("DELETE", "/api/v1/papers/{ref}/vote"),
    ("GET", "/api/v1/jobs"), ("GET", "/api/v1/jobs/{job_id}"),
]


@pytest.fixture(scope="session")
def api_schema(live_server: str) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")


def test_every_operation_is_exercised(api_schema: OpenApiSchema) -> None:
    documented = {(op.ok().method.upper(), op.ok().path)
                  for op in api_schema.get_all_operations()}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_operation_conforms_to_the_document(api_schema: OpenApiSchema, method: str,
                                            path: str) -> None:
    operation = api_schema[path][method]
    calls: list[int] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        response = case.call_and_validate()
        calls.append(response.status_code)

    check()
    assert calls and all(code < 500 for code in calls)
