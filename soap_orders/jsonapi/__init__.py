"""The JSON twin: every operation also at ``POST /json/<Operation>``, with the same field names,
authentication, scopes, idempotency and outcomes, described by an OpenAPI 3.1 document. Both are
derived from the operation declarations."""
