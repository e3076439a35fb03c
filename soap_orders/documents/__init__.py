"""Each document of the contract described once, as data.

A document is a table of fields (name, kind, length, enumeration, required or not). The spyne
wire types, the JSON form and its OpenAPI schema, the records that imports read and the stored
replay of idempotent results are all derived from these tables; nothing else spells out a field.
"""

from .fields import (
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

__all__ = [
    "Amount",
    "Boolean",
    "Choice",
    "Date",
    "Document",
    "Field",
    "Integer",
    "Kind",
    "ListOf",
    "Text",
    "Timestamp",
    "input_form",
]
