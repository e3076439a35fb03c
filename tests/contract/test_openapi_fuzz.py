"""The JSON twin fuzzed from its own OpenAPI document with schemathesis, against a live server on
SQLite and PostgreSQL: no request may get a server error, and no answer may break the schema the
service publishes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.slow

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "wsdl" / "openapi.json").read_text())
schema = schemathesis.openapi.from_dict(DOCUMENT)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_fits_the_schema(case, server):
    response = case.call(base_url=server.base_url, auth=server.credentials, timeout=10)
    case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))

