"""Store behaviour behind the edge fixes, on a real SQLite file and on PostgreSQL: the largest
date as an upper bound, and forgetting one client's authentication failures."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from soap_orders.domain.errors import ValidationError
from soap_orders.service.auth import failure_key, unlock_client
from soap_orders.service.ports import OrderQuery
from tests.records import order_record, store, unique
from tests.server import add_client


def test_find_by_email_accepts_the_largest_and_smallest_dates(deps):
    email = f"{unique('bounds')}@example.com"
    (number,) = store(deps, order_record(email=email))
    with deps.uow() as uow:
        everything, total = uow.orders.find_by_email(OrderQuery(email, placed_from=date.min, placed_to=date.max))
        late, late_total = uow.orders.find_by_email(OrderQuery(email, placed_from=date.max, placed_to=date.max))
        early, early_total = uow.orders.find_by_email(OrderQuery(email, placed_from=date.min, placed_to=date(2026, 2, 28)))
    assert [order.order_number for order in everything] == [number] and total == 1
    assert late == [] and late_total == 0
    assert early == [] and early_total == 0  # the order was placed on 2026-03-01


def test_unlock_forgets_only_that_clients_failures(deps, database_url):
    name = unique("a_b")
    lookalike = name.replace("_", "x")  # "_" must not act as a wildcard
    add_client(database_url, name)
    now = datetime.now(timezone.utc)
    with deps.uow() as uow:
        for key in (failure_key(name, "10.0.0.1"), failure_key(name, "10.0.0.2"), failure_key(name, None),
                    failure_key(lookalike, "10.0.0.1"), "addr:10.0.0.1", "addr:10.0.0.2"):
            uow.failures.add(key, now)
        uow.commit()
    assert unlock_client(deps.uow(), name, ["10.0.0.2"]) == 4
    keys = [failure_key(name, "10.0.0.1"), failure_key(lookalike, "10.0.0.1"), "addr:10.0.0.1", "addr:10.0.0.2"]
    with deps.uow() as uow:
        counts = uow.failures.counts(keys, now - timedelta(minutes=1))
    assert counts == {failure_key(lookalike, "10.0.0.1"): 1, "addr:10.0.0.1": 1}


def test_unlocking_an_unknown_client_is_an_error(deps):
    with pytest.raises(ValidationError, match="No client named"):
        unlock_client(deps.uow(), "nobody-here")
