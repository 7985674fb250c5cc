"""schemathesis against the served /openapi.json: no 5xx, every response documented and matching its schema.

Schema-valid (positive) and schema-breaking (negative) requests, a few dozen per operation and mode,
so the suite stays fast; the generated orders are
real orders on the test server's own database. Each operation is run through its Hypothesis
strategy directly: schemathesis' `from_fixture` loader does not run under pytest 9.
"""

from __future__ import annotations

import contextlib
import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api.server import ServeProcess

pytestmark = pytest.mark.slow
EXAMPLES_PER_OPERATION = 30


def test_every_operation_keeps_to_its_document(server: ServeProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    for operation, mode in itertools.product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def keeps_to_document(case: schemathesis.Case) -> None:
            # Every check, positive_data_acceptance included: the document is the validator's rules.
            case.call_and_validate()

        if mode is GenerationMode.POSITIVE:
            keeps_to_document()
            continue
        with contextlib.suppress(Unsatisfiable):  # nothing schema-breaking exists for, e.g., GET /health
            keeps_to_document()
