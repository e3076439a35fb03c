"""``records.load`` (loaders made once per document) reads every record as ``records._load`` (the
description followed field by field) does: the same order from a valid record, the same refusal,
worded alike and at the same path, from an invalid one."""

from __future__ import annotations

import copy
import dataclasses
import enum
import random
from decimal import Decimal
from typing import Any

import pytest

from soap_orders.demo import generate_records
from soap_orders.documents import records
from soap_orders.documents.orders import ORDER, ORDER_INPUT
from soap_orders.domain import limits
from tests.records import order_record, shipped, with_return

#: Values put in place of a field's: of each type, valid for some fields and not for others.
ODD_VALUES: tuple[Any, ...] = (
    None, "", " ", "  padded text  ", "x" * 300, "a\x01b", "\x1ctrimmed\x1f", "tab\tand\nline", 0, 1, -1, 7,
    10**20, 1.5, True, False, "0", "1", "true", "false", "12", " 12 ", "12.345", "12.30", "-4.00", "abc", "1e3",
    Decimal("2.50"), Decimal("1E+30"), Decimal("NaN"), [], [{}], {}, {"X": 1}, "PAID", " PAID ", "paid",
    "SHIPPED", "2026-01-01", " 2026-01-01 ", "2026-01-01T00:00:00", "2026-01-01T10:00:00Z",
    "2026-01-01T10:00:00+02:00", "2026-13-01T00:00:00Z", "GB", "gb", "EUR", "ann@example.com", "no-at",
    limits.MAX_COUNT, limits.MAX_COUNT + 1, str(limits.MAX_COUNT + 1),
)


def mutations(record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """``record`` with one part changed: a value replaced, a field left out or added, a list
    wrapped, emptied or replaced, somewhere in it."""
    mutated = copy.deepcopy(record)
    places: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            places.append(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(mutated)
    place = rng.choice(places)
    key = rng.choice(sorted(place) or ["OrderNumber"])
    action = rng.randrange(6)
    if action == 0:
        place.pop(key, None)
    elif action == 1:
        place[rng.choice(["Bogus", "bad key!", "Lines", "Items", "Sku", "LineTotal"])] = rng.choice(ODD_VALUES)
    elif action == 2 and isinstance(place.get(key), list):
        items = place[key]
        place[key] = rng.choice([{"Line": items}, {"Item": items}, {"Line": items[:1]}, {"Line": {"Line": items}},
                                 {"Line": items[0] if items else {}}, [], items * 3, "not a list", [1]])
    else:
        place[key] = rng.choice(ODD_VALUES)
    return mutated


def outcome(load: Any, document: Any, record: Any) -> Any:
    currency = record.get("Currency") if isinstance(record, dict) else None
    currency = currency.strip() if isinstance(currency, str) and currency.strip() in records.money.ISO_4217 else "EUR"
    try:
        return "loaded", shape(load(document, record, "", currency))
    except records.RecordError as error:
        return "refused", error.path, error.problem
    except Exception as error:  # noqa: BLE001 - whatever else goes wrong must go wrong alike
        return "failed", type(error).__name__, str(error)


def shape(value: Any) -> Any:
    """Everything a loaded value holds, with each value's type (a decimal's digits as written)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return type(value).__name__, {f.name: shape(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if isinstance(value, Decimal):
        return "Decimal", str(value)
    if isinstance(value, enum.Enum):
        return type(value).__name__, value.value
    return type(value).__name__, value


def sample_records() -> list[dict[str, Any]]:
    base = order_record("T-LOAD-1")
    return [*generate_records(30, 5), base, shipped(order_record("T-LOAD-2")),
            with_return(shipped(order_record("T-LOAD-3")), "RT-1")]


def test_valid_records_load_alike() -> None:
    for record in sample_records():
        loaded = outcome(records.load, ORDER, record)
        assert loaded[0] == "loaded"
        assert loaded == outcome(records._load, ORDER, record)


@pytest.mark.parametrize("seed", range(3))
def test_changed_records_load_or_are_refused_alike(seed: int) -> None:
    rng = random.Random(seed)
    samples = sample_records()
    seen = set()
    for _ in range(400):
        record = mutations(rng.choice(samples), rng)
        for document in (ORDER, ORDER_INPUT):
            fast, described = outcome(records.load, document, record), outcome(records._load, document, record)
            assert fast == described, record
            seen.add(fast[0])
    assert seen >= {"loaded", "refused"}


@pytest.mark.parametrize("record", [None, [], "text", 5, {"bad key!": 1}, {"Bogus": 1}])
def test_what_is_not_an_order_record_is_refused_alike(record: Any) -> None:
    assert outcome(records.load, ORDER, record) == outcome(records._load, ORDER, record)
    assert outcome(records.load, ORDER, record)[0] == "refused"


def places_of(record: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Every (object, key) of ``record``, nested ones too."""
    found: list[tuple[dict[str, Any], str]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            found.extend((value, key) for key in value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(record)
    return found


def test_each_field_given_each_odd_value_loads_or_is_refused_alike() -> None:
    record = with_return(shipped(order_record("T-LOAD-4", Refunds=[
        {"RefundId": "RF-1", "Amount": "5.00", "Reason": "CUSTOMER", "Status": "FAILED",
         "CreatedAt": "2026-03-02T10:00:00Z"}])), "RT-1")
    for index in range(len(places_of(record))):
        for value in ODD_VALUES:
            mutated = copy.deepcopy(record)
            place, key = places_of(mutated)[index]
            original = place[key]
            place[key] = value
            assert outcome(records.load, ORDER, mutated) == outcome(records._load, ORDER, mutated), (key, value)
            if isinstance(original, list):
                for wrapped in ({"Line": original}, {"Item": original}, {"Line": {"Line": original}},
                                {"Line": original[0] if original else {}}, original * 3):
                    place[key] = wrapped
                    assert outcome(records.load, ORDER, mutated) == outcome(records._load, ORDER, mutated), (key, wrapped)
