"""Fault messages built from real lxml errors: they name the field and the rule, never the value."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lxml import etree
from spyne import Fault
from spyne.protocol.xml import SchemaValidationError

from soap_orders.documents import schema_errors
from soap_orders.documents.records import RecordError
from soap_orders.domain import errors
from soap_orders.soap import faults
from soap_orders.xmlsafe import describe_syntax_error

SECRET = "ZZ-SECRET-ZZ"

XSD = b"""\
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="urn:test" targetNamespace="urn:test"
           elementFormDefault="qualified">
  <xs:simpleType name="StatusType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="PENDING"/>
      <xs:enumeration value="SHIPPED"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="SkuType">
    <xs:restriction base="xs:string"><xs:minLength value="1"/><xs:maxLength value="8"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="CountryType">
    <xs:restriction base="xs:string"><xs:pattern value="[A-Z]{2}"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="PositiveAmount">
    <xs:restriction base="xs:decimal">
      <xs:totalDigits value="18"/><xs:fractionDigits value="4"/><xs:minExclusive value="0"/>
    </xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="Quantity">
    <xs:restriction base="xs:integer"><xs:minInclusive value="1"/><xs:maxInclusive value="1000000"/></xs:restriction>
  </xs:simpleType>
  <xs:element name="Order">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="OrderNumber" type="xs:string"/>
        <xs:element name="Status" type="StatusType" minOccurs="0"/>
        <xs:element name="Sku" type="SkuType" minOccurs="0"/>
        <xs:element name="CountryCode" type="CountryType" minOccurs="0"/>
        <xs:element name="Amount" type="PositiveAmount" minOccurs="0"/>
        <xs:element name="Quantity" type="Quantity" minOccurs="0"/>
        <xs:element name="Total" type="xs:decimal" minOccurs="0"/>
        <xs:element name="Count" type="xs:integer" minOccurs="0"/>
        <xs:element name="PlacedAt" type="xs:dateTime" minOccurs="0"/>
        <xs:element name="PlacedOn" type="xs:date" minOccurs="0"/>
        <xs:element name="Gift" type="xs:boolean" minOccurs="0"/>
        <xs:element name="Note" type="xs:string" minOccurs="0"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""

SCHEMA = etree.XMLSchema(etree.fromstring(XSD))
NAMES = {
    "Order", "OrderNumber", "Status", "Sku", "CountryCode", "Amount", "Quantity", "Total", "Count", "PlacedAt",
    "PlacedOn", "Gift", "Note",
}


@pytest.fixture(autouse=True)
def schema_names() -> Iterator[None]:
    """The test schema's names for each test; whatever was registered before is put back after."""
    previous = set(schema_errors._KNOWN_NAMES)
    schema_errors.set_schema_names(set(NAMES))
    yield
    schema_errors.set_schema_names(previous)


def lxml_error(body: str) -> str:
    """The text spyne would get: the last error of validating ``<Order>body</Order>``."""
    document = etree.fromstring(f'<Order xmlns="urn:test">{body}</Order>'.encode())
    assert not SCHEMA.validate(document)
    return str(SCHEMA.error_log.last_error)


def described(body: str) -> str:
    return schema_errors.describe_schema_error(lxml_error(body))


def with_number(body: str) -> str:
    return f"<OrderNumber>1</OrderNumber>{body}"


# ---------------------------------------------------------------------- facets


def test_the_lxml_error_really_carries_the_value_that_the_message_drops():
    assert SECRET in lxml_error(with_number(f"<Status>{SECRET}</Status>"))


def test_enumeration_names_the_field_and_lists_the_allowed_values():
    message = described(with_number(f"<Status>{SECRET}</Status>"))

    assert message == "Status must be one of: PENDING, SHIPPED."


def test_enumeration_message_cannot_be_fed_by_the_value():
    message = described(with_number(f"<Status>set {{{SECRET}}}</Status>"))

    assert SECRET not in message
    assert message == "Status must be one of: PENDING, SHIPPED."


def test_max_length_names_the_field_and_the_limit():
    message = described(with_number(f"<Sku>{SECRET}</Sku>"))

    assert message == "Sku is longer than 8 characters."


def test_min_length_says_the_field_must_not_be_empty():
    assert described(with_number("<Sku></Sku>")) == "Sku must not be empty."


def test_pattern_says_the_format_is_wrong_without_the_value_or_the_pattern():
    message = described(with_number("<CountryCode>zz-secret-zz</CountryCode>"))

    assert message == "CountryCode is not in the expected format."


def test_fraction_digits_says_there_are_too_many_decimal_places():
    message = described(with_number("<Amount>1.98765</Amount>"))

    assert message == "Amount has too many decimal places."
    assert "98765" not in message


def test_total_digits_says_there_are_too_many_digits():
    message = described(with_number("<Amount>1234567890123456789</Amount>"))

    assert message == "Amount has too many digits."
    assert "123456789" not in message


@pytest.mark.parametrize("value", ["0", "-987.65"])
def test_min_exclusive_says_the_amount_must_be_greater_than_zero(value):
    message = described(with_number(f"<Amount>{value}</Amount>"))

    assert message == "Amount must be greater than 0."
    assert "987" not in message


def test_min_inclusive_states_the_lowest_value_allowed():
    message = described(with_number("<Quantity>-4321</Quantity>"))

    assert message == "Quantity must be at least 1."


def test_max_inclusive_states_the_highest_value_allowed():
    message = described(with_number("<Quantity>7777777</Quantity>"))

    assert message == "Quantity must be at most 1000000."


# ---------------------------------------------------------------------- data types


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"<Total>{SECRET}</Total>", "Total is not a valid decimal number."),
        ("<Count>1.5</Count>", "Count is not a valid whole number."),
        ("<PlacedAt>2026-01-31</PlacedAt>", "PlacedAt is not a valid date-time such as 2026-01-31T09:30:00Z."),
        ("<PlacedOn>31/01/2026</PlacedOn>", "PlacedOn is not a valid date such as 2026-01-31."),
        ("<Gift>maybe</Gift>", "Gift is not a valid boolean (true or false)."),
    ],
)
def test_a_value_of_the_wrong_built_in_type_names_the_type_expected(body, expected):
    message = described(with_number(body))

    assert message == expected
    assert SECRET not in message


def test_a_value_of_the_wrong_named_type_is_refused_without_echoing_it():
    message = described(with_number(f"<Amount>{SECRET}</Amount>"))

    assert message.startswith("Amount is not a valid ")
    assert SECRET not in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [(f"<Amount>{SECRET}</Amount>", "Amount is not a valid decimal number."),
     ("<Quantity>1.5</Quantity>", "Quantity is not a valid whole number.")],
)
def test_a_value_of_a_named_type_of_the_contract_names_its_base_type(body, expected):
    # lxml names the type as '{urn:test}PositiveAmount', as it does for the published schema's types.
    assert "atomic type '{urn:test}" in lxml_error(with_number(body))
    assert described(with_number(body)) == expected


# ---------------------------------------------------------------------- structure


def test_a_missing_required_child_names_the_parent_and_the_expected_element():
    assert described("<Status>PENDING</Status>") == "Status is not expected here; expected OrderNumber."
    assert described("") == "Order is missing a required element; expected OrderNumber."


def test_an_unknown_element_is_reported_as_an_element_not_by_its_name():
    message = described(with_number("<Injected>x</Injected>"))

    assert message.startswith("An element is not expected here; expected ")
    assert "Injected" not in message


def test_only_known_names_are_listed_as_expected():
    schema_errors.set_schema_names({"Order"})

    message = described("<Injected>x</Injected>")

    assert message == "An element is not expected here."


def test_an_element_of_the_schema_not_registered_is_not_named_either():
    schema_errors.set_schema_names(set())

    assert described(with_number(f"<Sku>{SECRET}</Sku>")) == "An element is longer than 8 characters."


def test_nil_on_an_element_that_is_not_nillable():
    body = with_number('<Note xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>')

    assert described(body) == "Note must not be nil."


def test_text_in_an_element_only_type():
    message = described(f"{SECRET}<OrderNumber>1</OrderNumber>")

    assert message == "Order must not contain text."


def test_an_error_without_an_element_speaks_of_a_field():
    assert schema_errors.describe_schema_error("something odd happened") == "A field does not match the schema."


# ---------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    ("document", "line", "column"),
    [
        (b"<ZZSECRET><b></ZZSECRET>", 1, 25),
        (b"<a>&ZZSECRET;</a>", 1, 14),
        (b"<a>\n<ZZSECRET", 2, 10),
        (b'<a ZZSECRET="1" ZZSECRET="2"/>', 1, 29),
    ],
)
def test_syntax_errors_keep_only_line_and_column(document, line, column):
    with pytest.raises(etree.XMLSyntaxError) as caught:
        etree.fromstring(document)
    assert "ZZSECRET" in str(caught.value)
    assert caught.value.position == (line, column)

    message = describe_syntax_error(str(caught.value))

    assert message == f"The request is not well-formed XML (line {line}, column {column})."
    assert "ZZSECRET" not in message


def test_syntax_error_without_a_position():
    assert describe_syntax_error("Start tag expected, '<' not found") == "The request is not well-formed XML."


@pytest.mark.parametrize(
    ("document", "sentence"),
    [
        (b"<a>\xff\xfe</a>", "The request is not valid in its character encoding"),
        (b"<a>\x01</a>", "The request contains a character XML does not allow"),
        (b'<?xml version="1.0" encoding="x-unknown"?><a/>', "The request declares an unsupported character encoding"),
        (b"<a>" * 300 + b"</a>" * 300, "The request is nested too deeply"),
    ],
)
def test_syntax_errors_say_what_kind_of_problem(document, sentence):
    with pytest.raises(etree.XMLSyntaxError) as caught:
        etree.fromstring(document)
    assert describe_syntax_error(str(caught.value)).startswith(sentence)


# ---------------------------------------------------------------------- protocol faults


def test_schema_validation_fault_from_spyne_becomes_a_schema_violation():
    # spyne passes the last lxml error as ASCII bytes with character references.
    text = lxml_error(with_number(f"<Sku>{SECRET}\u00e9</Sku>"))

    fault = faults.from_protocol_fault(SchemaValidationError(text.encode("ascii", "xmlcharrefreplace")))

    assert isinstance(fault, faults.ValidationFault)
    assert fault.faultcode == "Client.ValidationError"
    assert fault.fields == {"ErrorCode": "SCHEMA_VIOLATION", "Message": "Sku is longer than 8 characters.",
                            "Retryable": "false"}


def test_an_unknown_body_element_is_an_unknown_operation():
    text = "Element '{urn:test}Injected': No matching global declaration available for the validation root."

    fault = faults.from_protocol_fault(SchemaValidationError(text.encode()))

    assert fault.fields["ErrorCode"] == "UNKNOWN_OPERATION"
    assert "Injected" not in fault.message


def test_spyne_syntax_fault_becomes_malformed_xml():
    fault = faults.from_protocol_fault(Fault("Client.XMLSyntaxError", f"Entity '{SECRET}' not defined, line 3, column 7"))

    assert fault.fields["ErrorCode"] == "MALFORMED_XML"
    assert fault.message == "The request is not well-formed XML."
    assert SECRET not in fault.message


@pytest.mark.parametrize("code", ["Client.ResourceNotFound", "Client.MethodNotFound"])
def test_routing_faults_become_unknown_operation(code):
    fault = faults.from_protocol_fault(Fault(code, SECRET))

    assert fault.fields["ErrorCode"] == "UNKNOWN_OPERATION"
    assert SECRET not in fault.message


def test_other_client_faults_become_a_generic_schema_violation():
    fault = faults.from_protocol_fault(Fault("Client.Whatever", SECRET))

    assert fault.fields["ErrorCode"] == "SCHEMA_VIOLATION"
    assert fault.message == "The request does not match the operation's schema."


def test_server_faults_become_a_retryable_internal_error():
    fault = faults.from_protocol_fault(Fault("Server", SECRET))

    assert isinstance(fault, faults.InternalErrorFault)
    assert fault.faultcode == "Server.InternalError"
    assert fault.fields["Retryable"] == "true"
    assert SECRET not in fault.message


# ---------------------------------------------------------------------- domain errors


@pytest.mark.parametrize(
    ("error", "fault_class", "faultcode", "error_code"),
    [
        (errors.OrderNotFound(), faults.OrderNotFoundFault, "Client.OrderNotFound", "ORDER_NOT_FOUND"),
        (errors.IdempotencyConflict(), faults.IdempotencyConflictFault, "Client.IdempotencyConflict",
         "IDEMPOTENCY_CONFLICT"),
        (errors.ValidationError("PageSize must be between 1 and 100.", "PageSize"), faults.ValidationFault,
         "Client.ValidationError", "VALIDATION_ERROR"),
        (errors.InvalidAmount("Amount", "must be greater than zero"), faults.ValidationFault,
         "Client.ValidationError", "INVALID_AMOUNT"),
        (errors.InvalidCurrency(SECRET), faults.ValidationFault, "Client.ValidationError", "INVALID_CURRENCY"),
        (RecordError("Lines[2].Quantity", "must be a whole number"), faults.ValidationFault,
         "Client.ValidationError", "INVALID_RECORD"),
    ],
)
def test_domain_errors_map_onto_contract_faults(error, fault_class, faultcode, error_code):
    fault = faults.fault_for(error)

    assert type(fault) is fault_class
    assert fault.faultcode == faultcode
    assert fault.faultstring == error.message
    assert fault.fields == {"ErrorCode": error_code, "Message": error.message, "Retryable": "false"}
    assert SECRET not in fault.message


def test_an_unmapped_domain_error_has_no_fault():
    assert faults.fault_for(errors.DomainError("something")) is None
