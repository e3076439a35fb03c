"""What the change feed stores of an event: its own data, JSON-ready (decimals, dates, times and
enumerations as text, inside lists and tuples too)."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime, timezone
from decimal import Decimal

from soap_orders.domain.events import ReturnCreated, json_ready
from soap_orders.domain.orders import ReturnStatus

AT = datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)


def test_values_become_what_json_holds() -> None:
    assert json_ready(Decimal("10.50")) == "10.50"
    assert json_ready(Decimal("1E+2")) == "100"
    assert json_ready(date(2026, 3, 1)) == "2026-03-01"
    assert json_ready(AT) == "2026-03-01T10:30:00+00:00"
    assert json_ready(ReturnStatus.RECEIVED) == "RECEIVED"
    assert json_ready("RECEIVED") == "RECEIVED" and json_ready(3) == 3 and json_ready(None) is None


class Channel(enum.Enum):
    """An enumeration that is not also a str: JSON cannot hold its members as they are."""

    PHONE = "PHONE"


def test_any_enumeration_is_stored_by_its_value() -> None:
    assert json.loads(json.dumps(json_ready(Channel.PHONE))) == "PHONE"
    assert json.loads(json.dumps(json_ready([Channel.PHONE, ReturnStatus.RECEIVED]))) == ["PHONE", "RECEIVED"]
    assert type(json_ready(ReturnStatus.RECEIVED)) is str


def test_lists_and_tuples_keep_their_kind_and_convert_each_item() -> None:
    assert json_ready([Decimal("1.00"), ReturnStatus.REJECTED, date(2026, 1, 2)]) == ["1.00", "REJECTED", "2026-01-02"]
    assert json_ready(((1, Decimal("2.5")), (2, AT))) == ((1, "2.5"), (2, "2026-03-01T10:30:00+00:00"))


def test_an_event_payload_is_its_own_data_without_its_subject() -> None:
    event = ReturnCreated("SO-1", AT, "rq-1", "RMA-1", "SIZE", None, ((1, 2),), "1Z", "ups", None)
    payload = event.payload()
    assert "order_number" not in payload and "occurred_at" not in payload
    assert payload["return_id"] == "RMA-1" and payload["request_id"] == "rq-1"
    assert payload["lines"] == ((1, 2),) and json.loads(json.dumps(payload))["lines"] == [[1, 2]]
