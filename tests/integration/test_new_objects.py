"""Objects read from records are built by the mapping's builder (``orm.new_object_builder``): each
is the object its class's own constructor builds, in the same state as a new object (its values,
what SQLAlchemy records of them as changes, its collections and its items' parent), whatever
records it is read from."""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import attributes

from soap_orders.adapters import orm
from soap_orders.demo import generate_records
from soap_orders.documents import records
from soap_orders.documents.orders import ORDER
from soap_orders.domain.orders import Address, Customer, Order
from tests.records import order_record, shipped, with_return


def state_of(obj: Any) -> Any:
    """Everything SQLAlchemy and the domain keep of a mapped object, its parts' states nested."""
    state = attributes.instance_state(obj)

    def value(item: Any) -> Any:
        if hasattr(item, "_sa_instance_state"):
            return state_of(item)
        if isinstance(item, list):
            return type(item).__name__, [value(part) for part in item]
        if isinstance(item, (Customer, Address)):
            return type(item).__name__, dataclasses.astuple(item)
        if isinstance(item, Decimal):
            return "Decimal", str(item)
        return type(item).__name__, item

    own = {key: value(item) for key, item in obj.__dict__.items() if key not in ("_sa_instance_state", "_checked")}
    adapters = {key: (type(item._sa_adapter).__name__, item._sa_adapter.owner_state is state)
                for key, item in obj.__dict__.items() if hasattr(item, "_sa_adapter")}
    changes = {key: ("list", [value(part) for part in item]) if isinstance(item, list) else item
               for key, item in state.committed_state.items()}
    parents = {key: parent is not False for key, parent in state.parents.items()}
    kept = {name: getattr(state, name) for name in ("modified", "expired", "key", "session_id", "_strong_obj",
                                                     "expired_attributes", "callables", "_empty_collections",
                                                     "_pending_mutations", "_last_known_values")
            if hasattr(state, name)}
    return type(obj).__name__, own, adapters, changes, parents, repr(kept), sorted(vars(state))


def built_both_ways(record: dict[str, Any]) -> tuple[Order, Order]:
    orm.start_mappers()
    by_builder = records.order_from_record(copy.deepcopy(record))
    builders = dict(records._BUILDERS)
    try:
        records._BUILDERS.clear()
        by_constructor = records.order_from_record(copy.deepcopy(record))
    finally:
        records._BUILDERS.update(builders)
    return by_builder, by_constructor


def test_orders_read_from_records_are_built_as_their_classes_build_them() -> None:
    samples = [*generate_records(60, 13), order_record("T-NEW-1", ShippingAddress=None),
               with_return(shipped(order_record("T-NEW-2")), "RT-1"),
               order_record("T-NEW-3", Refunds=[{"RefundId": "RF-1", "Amount": "5.00", "Reason": "CUSTOMER",
                                                 "Status": "COMPLETED", "CreatedAt": "2026-03-02T10:00:00Z"}],
                            ReplacementOrderNumbers=["T-R-1"], ReplaceIdentity=True)]
    for record in samples:
        by_builder, by_constructor = built_both_ways(record)
        assert type(by_builder) is Order
        assert state_of(by_builder) == state_of(by_constructor)


def test_every_class_an_order_document_builds_has_a_builder() -> None:
    orm.start_mappers()
    built: set[Any] = set()

    def walk(document: Any) -> None:
        built.add(document.factory)
        for field in document.fields:
            kind = getattr(field.kind, "item", field.kind)
            if hasattr(kind, "fields"):
                walk(kind)

    walk(ORDER)
    mapped = {kind for kind in built if getattr(kind, "__mapper__", None) is not None}
    assert mapped and mapped <= set(records._BUILDERS)


def test_a_missing_value_is_refused_as_by_the_class() -> None:
    orm.start_mappers()
    build = orm.new_object_builder(Order)
    for make in (build, Order):
        try:
            make(order_number="T-NEW-4")
        except TypeError as error:
            assert "missing" in str(error)
        else:
            raise AssertionError("built an order without its values")
