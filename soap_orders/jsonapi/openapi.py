"""The OpenAPI 3.1 document of the JSON twin, generated from the operation declarations."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ..documents import (
    Amount,
    Boolean,
    Choice,
    Date,
    Document,
    Field,
    Integer,
    Kind,
    ListOf,
    Text,
    Timestamp,
    input_form,
)
from ..documents.fields import COMPUTED_NOTE
from ..documents.records import required_on_input
from ..domain.error_kinds import documented_statuses
from ..operations import Operation
from .endpoint import PREFIX

#: Every operation's error responses, by HTTP status (domain/error_kinds.py).
_ERRORS = {str(status): text for status, text in documented_statuses().items()}
_DECIMAL = r"^-?[0-9]{1,14}(\.[0-9]{1,4})?$"


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def document(self, document: Document, *, name: str, as_input: bool) -> dict[str, Any]:
        if name not in self.components:
            self.components[name] = {}  # reserved before recursing
            fields = list(document.fields)
            required = [f.name for f in fields if (required_on_input(f) if as_input else f.required)]
            schema: dict[str, Any] = {
                "type": "object",
                "properties": {f.name: self.field(f, as_input) for f in fields},
                "additionalProperties": False,
            }
            if required:
                schema["required"] = required
            if document.doc:
                schema["description"] = document.doc
            self.components[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    def field(self, field: Field, as_input: bool) -> dict[str, Any]:
        schema = self.kind(field.kind, as_input)
        if "$ref" in schema:
            return schema
        if field.default is not None and as_input:
            schema["default"] = field.default.value if hasattr(field.default, "value") else field.default
        note = field.doc or (COMPUTED_NOTE if field.derived else None)
        if note:
            schema["description"] = f"{schema['description']} {note}" if "description" in schema else note
        return schema

    def kind(self, kind: Kind, as_input: bool) -> dict[str, Any]:
        if as_input:
            kind = input_form(kind)  # what callers send: what the service computes or defaults is optional
        if isinstance(kind, Document):
            # Every document sent has its own schema (OrderInput, CustomerInput), whether or not it
            # differs from the answer's.
            name = kind.type_name
            if as_input and not name.endswith("Input"):
                name += "Input"
            return self.document(kind, name=name, as_input=as_input)
        if isinstance(kind, ListOf):
            schema: dict[str, Any] = {"type": "array", "items": self.kind(kind.item, as_input)}
            if kind.min_occurs:
                schema["minItems"] = kind.min_occurs
            if kind.max_occurs is not None:
                schema["maxItems"] = kind.max_occurs
            return schema
        return scalar(kind)


def scalar(kind: Kind) -> dict[str, Any]:
    if isinstance(kind, Text):
        schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": kind.max_len}
        if kind.pattern:
            schema["pattern"] = f"^(?:{kind.pattern})$"
        return schema
    if isinstance(kind, Choice):
        return {"type": "string", "enum": list(kind.values)}
    if isinstance(kind, Amount):
        schema = {"type": "string", "pattern": _DECIMAL, "description": "A decimal amount, written as a string."}
        if kind.positive:
            schema["description"] = "A decimal amount greater than zero, written as a string."
        return schema
    if isinstance(kind, Integer):
        return {"type": "integer", "minimum": kind.ge, "maximum": kind.le}
    if isinstance(kind, Timestamp):
        return {"type": "string", "format": "date-time", "description": "UTC, written with Z."}
    if isinstance(kind, Date):
        return {"type": "string", "format": "date"}
    if isinstance(kind, Boolean):
        return {"type": "boolean"}
    raise TypeError(f"not a scalar kind: {kind!r}")


def openapi_document(operations: Iterable[Operation], public_url: str) -> dict[str, Any]:
    parts = urlsplit(public_url)
    schemas = _Schemas()
    paths: dict[str, Any] = {}
    for operation in operations:
        request = schemas.document(operation.request_document, name=f"{operation.name}Request", as_input=True)
        answer = schemas.document(operation.answer_document, name=f"{operation.name}Response", as_input=False)
        paths[f"{PREFIX}{operation.name}"] = {"post": {
            "operationId": operation.name,
            "summary": operation.summary,
            "description": operation.description + f" Needs {operation.needs}.",
            "tags": [operation.scope.value],
            "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
            "responses": {
                "200": {"description": "The answer (business decisions included).",
                        "content": {"application/json": {"schema": answer}}},
                **{status: {"description": text, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}} for status, text in _ERRORS.items()},
            },
        }}
    schemas.components["Error"] = {
        "type": "object",
        "properties": {
            "ErrorCode": {"type": "string"},
            "Message": {"type": "string"},
            "Retryable": {"type": "boolean"},
        },
        "required": ["ErrorCode", "Message", "Retryable"],
        "additionalProperties": False,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "soap_orders JSON API",
            "version": "v1",
            "description": "The same operations as the SOAP endpoint (urn:soap-orders:orders:v1), as JSON.",
        },
        "servers": [{"url": f"{parts.scheme}://{parts.netloc}"}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An access token from POST /oauth/token (client credentials)."},
            },
        },
    }


def openapi_json(operations: Iterable[Operation], public_url: str) -> bytes:
    return (json.dumps(openapi_document(operations, public_url), indent=2, ensure_ascii=False) + "\n").encode()
