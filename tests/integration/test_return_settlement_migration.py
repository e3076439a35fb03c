"""Migration 0012 marks the returns the service had already settled before it kept track, from what is
stored: the refund it issued, and the UpdateReturn in the change feed (SQLite file and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from soap_orders.adapters import migrate
from soap_orders.adapters.orm import orders, returns
from soap_orders.domain.orders import ReturnUpdate
from soap_orders.service import order_actions
from soap_orders.service.idempotency import Caller
from tests.records import delivered, order_record, store, unique, with_return


def settled_by(deps) -> dict[str, str | None]:
    query = (select(orders.c.order_number, returns.c.return_id, returns.c.settled_by)
             .join(orders, orders.c.id == returns.c.order_id))
    with deps.engine.connect() as connection:
        return {f"{number}/{rid}": by for number, rid, by in connection.execute(query)}


def test_returns_settled_before_the_column_existed_are_marked_by_the_upgrade(deps):
    number = unique("MIG")
    record = delivered(order_record(number))
    record = with_return(with_return(record, "RT-REJ", status="RECEIVED"), "RT-REF", status="RECEIVED",
                         items=((2, 1),))
    record = with_return(record, "RT-ERP", status="REFUNDED")  # the ERP's own outcome
    store(deps, record)
    caller = Caller("erp-test")
    for return_id, status in (("RT-REJ", ReturnUpdate.REJECTED), ("RT-REF", ReturnUpdate.REFUNDED)):
        result = order_actions.update_return(
            deps.uow(), order_actions.UpdateReturn(number, unique("rq"), return_id, status), deps.clock, caller)
        assert result.outcome.value == "RETURN_UPDATED", result.message
    marked = {f"{number}/RT-REJ": "SERVICE", f"{number}/RT-REF": "SERVICE", f"{number}/RT-ERP": None}
    assert settled_by(deps) == marked

    migrate.downgrade(deps.engine, "0011_retention")
    migrate.upgrade(deps.engine)

    assert settled_by(deps) == marked
