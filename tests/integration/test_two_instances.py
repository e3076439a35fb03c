"""Two gunicorn instances on different ports against one PostgreSQL database, hit by concurrent mixed
writes through both; afterwards the database must hold the invariants that locking promises:

- refunds never exceed what was paid, and each refund answered REFUNDED is stored exactly once;
- each RequestId is executed once: one idempotency record and one audit record, whatever the races;
- no order is both cancelled and shipped (CancelOrder racing RecordShipment: exactly one wins);
- no refund made through the service is lost by an ERP upsert racing it;
- the change feed (``order_events``) holds exactly one event per executed change.

SQLite serialises writes in one file, so this runs on PostgreSQL only: once with each instance
connected to PostgreSQL directly, and once through PgBouncer in transaction pooling mode (fewer
server connections than the instances' pools hold, each transaction on whichever is free) with
SOAP_ORDERS_DATABASE_POOL_MODE=transaction, as operators scale out.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from soap_orders.adapters.orm import (
    audit_records,
    idempotency_records,
    order_events,
    orders,
    refunds,
    shipments,
)
from soap_orders.bootstrap import Dependencies, build_dependencies
from soap_orders.documents.records import order_from_record
from soap_orders.ingest import orders as upserts
from soap_orders.service.orders import Caller
from tests.conftest import _database, _postgres_url
from tests.pgbouncer import MISSING, PgBouncer
from tests.records import order_record, unique
from tests.server import Server, settings_for_tests

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REFUND_ORDERS, REFUNDS_EACH = 12, 10  # 4.00 each on 30.00 orders: some must be refused
REPEATS = 40  # one RequestId sent again and again through both instances
RACES = 30  # CancelOrder against RecordShipment, one pair per order
UPSERT_RACES = 40  # an ERP upsert against an IssueRefund, one pair per order


@pytest.fixture(scope="module", params=["direct", "pgbouncer"])
def two_instances(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server, Dependencies]]:
    if _postgres_url() is None:
        pytest.skip("two instances on one database is a PostgreSQL test (SQLite serialises writes in one file); "
                    "set SOAP_ORDERS_TEST_DATABASE_URL")
    if request.param == "pgbouncer" and MISSING:
        pytest.skip(MISSING)
    directory = tmp_path_factory.mktemp(f"two-instances-{request.param}")
    url = _database("postgresql", directory, "two_instances")
    with ExitStack() as stack:
        server_env: dict[str, str] = {}
        if request.param == "pgbouncer":
            # 2 instances x 2 workers x (8 threads + 4) pooled connections share 10 server connections.
            bouncer = PgBouncer(url, server_connections=10)
            stack.callback(bouncer.stop)
            server_env = {"SOAP_ORDERS_DATABASE_URL": bouncer.url, "SOAP_ORDERS_DATABASE_POOL_MODE": "transaction"}
        first = Server(url, directory / "a.log", client_name="instance-a", extra_env=server_env)
        stack.callback(first.stop)
        second = Server(url, directory / "b.log", client_name="instance-b", extra_env=server_env)
        stack.callback(second.stop)
        deps = build_dependencies(settings_for_tests(url))
        stack.callback(deps.engine.dispose)
        yield first, second, deps


def _store(deps: Dependencies, records: list[dict[str, Any]]) -> list[str]:
    upserts.upsert_orders(deps.uow(), [order_from_record(copy.deepcopy(r)) for r in records], deps.clock)
    return [r["OrderNumber"] for r in records]


def test_concurrent_writes_through_two_instances_keep_the_invariants(two_instances):
    first, second, deps = two_instances
    credentials = first.credentials  # one client, so RequestIds are shared across both instances
    refund_orders = _store(deps, [order_record(unique("CR")) for _ in range(REFUND_ORDERS)])
    repeat_order = _store(deps, [order_record(unique("CP"))])[0]
    race_orders = _store(deps, [order_record(unique("CS")) for _ in range(RACES)])
    upsert_records = [order_record(unique("CU")) for _ in range(UPSERT_RACES)]
    upsert_orders = _store(deps, upsert_records)
    with deps.engine.connect() as connection:
        first_event = int(connection.scalar(select(func.coalesce(func.max(order_events.c.id), 0))))

    local = threading.local()
    retries: list[str] = []

    def post(operation: str, body: dict[str, Any], server: Server) -> dict[str, Any]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.auth = credentials
        url = f"{server.base_url}/json/{operation}"
        try:
            answer = session.post(url, json=body, timeout=30)
        except requests.ConnectionError:
            # A kept-alive connection the server closed while idle (keepalive 5 s): send again, as a
            # client does; the same RequestId makes that safe.
            retries.append(body["RequestId"])
            answer = session.post(url, json=body, timeout=30)
        assert answer.status_code == 200, (operation, answer.status_code, answer.text[:300])
        return {"operation": operation, "request_id": body["RequestId"], "order": body["OrderNumber"], **answer.json()}

    jobs: list[Callable[[], dict[str, Any]]] = []
    servers = (first, second)

    def http(operation: str, body: dict[str, Any], n: int) -> None:
        jobs.append(lambda: post(operation, body, servers[n % 2]))

    for number in refund_orders:
        for _ in range(REFUNDS_EACH):
            http("IssueRefund", {"OrderNumber": number, "RequestId": unique("rf"), "Reason": "DAMAGED",
                                 "Amount": "4.00"}, len(jobs))
    repeated_id = unique("same")
    for _ in range(REPEATS):
        http("IssueRefund", {"OrderNumber": repeat_order, "RequestId": repeated_id, "Reason": "DAMAGED",
                             "Amount": "7.00"}, len(jobs))
    for number in race_orders:
        http("CancelOrder", {"OrderNumber": number, "RequestId": unique("co"), "Reason": "CUSTOMER"}, len(jobs))
        http("RecordShipment", {"OrderNumber": number, "RequestId": unique("rs"), "Shipment": {
            "ShipmentId": f"SH-{number}", "Status": "IN_TRANSIT",
            "Items": [{"Sku": "MUG-RED", "Quantity": 2}, {"Sku": "TEA-001", "Quantity": 1}]}}, len(jobs))
    erp = Caller("erp-import")
    for record in upsert_records:
        changed = copy.deepcopy(record)
        changed["Customer"]["Phone"] = "+33 9 87 65 43 21"
        upsert_id = unique("up")

        def upsert(document: dict[str, Any] = changed, request_id: str = upsert_id) -> dict[str, Any]:
            report = upserts.upsert_records(deps.uow(), [document], deps.clock, erp, request_id=request_id)
            [result] = report.results
            return {"operation": "UpsertOrders", "request_id": request_id, "order": document["OrderNumber"],
                    "Outcome": result.outcome.value, "ReasonCode": result.reason_code.value}

        jobs.append(upsert)
        http("IssueRefund", {"OrderNumber": record["OrderNumber"], "RequestId": unique("ur"), "Reason": "DAMAGED",
                             "Amount": "5.00"}, len(jobs))
    assert len(jobs) >= 300
    random.Random(8).shuffle(jobs)
    # A reader of the change feed polls through the second instance while the writes go on.
    seen: list[int] = []
    done = threading.Event()

    def read_feed() -> None:
        cursor = first_event
        reader = requests.Session()
        reader.auth = credentials
        while True:
            finished = done.is_set()
            page = reader.post(f"{second.base_url}/json/GetOrderEvents",
                               json={"AfterEventId": cursor, "MaxEvents": 50}, timeout=30).json()
            seen.extend(event["EventId"] for event in page["Events"])
            cursor = page["LastEventId"]
            if finished and not page["HasMore"]:
                return
            if not page["Events"]:
                time.sleep(0.05)

    poller = threading.Thread(target=read_feed, daemon=True)
    poller.start()
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda job: job(), jobs))
    done.set()
    poller.join(timeout=60)
    assert not poller.is_alive(), "the feed reader did not finish"

    # What was executed: one answer per RequestId (a replay answers the same without acting again).
    executed = {a["request_id"]: a for a in answers}
    by_operation = Counter((a["operation"], a["Outcome"]) for a in executed.values())
    with deps.engine.connect() as connection:
        def scalar(query: Any) -> Any:
            return connection.scalar(query)

        def refunded(number: str, origin: str | None = None) -> tuple[int, Decimal]:
            query = select(func.count(), func.coalesce(func.sum(refunds.c.amount), 0)).select_from(
                refunds.join(orders)).where(orders.c.order_number == number)
            if origin is not None:
                query = query.where(refunds.c.origin == origin)
            count, total = connection.execute(query).one()
            return int(count), Decimal(total)

        # Refunds never exceed what was paid; each REFUNDED answer is one stored refund.
        for number in refund_orders:
            done = sum(1 for a in answers if a["order"] == number and a["Outcome"] == "REFUNDED")
            assert done == 7  # 7 x 4.00 fit in 30.00, the 8th would not
            assert refunded(number) == (done, Decimal("4.00") * done)
        # The repeated RequestId: executed once, the same answer for everyone.
        repeated = [a for a in answers if a["request_id"] == repeated_id]
        assert {(a["Outcome"], a["Refund"]["RefundId"]) for a in repeated} == {
            ("REFUNDED", repeated[0]["Refund"]["RefundId"])}
        assert refunded(repeat_order) == (1, Decimal("7.00"))
        # Each RequestId: one idempotency record and one audit record.
        request_ids = {a["request_id"] for a in answers}
        assert len(request_ids) == len(answers) - REPEATS + 1
        kept = Counter(connection.execute(select(idempotency_records.c.request_id).where(
            idempotency_records.c.request_id.in_(request_ids))).scalars())
        audited = Counter(connection.execute(select(audit_records.c.request_id).where(
            audit_records.c.request_id.in_(request_ids))).scalars())
        assert kept == Counter(request_ids) and audited == Counter(request_ids)
        # CancelOrder against RecordShipment: exactly one of them wins, never both.
        for number in race_orders:
            outcomes = {a["operation"]: a["Outcome"] for a in answers if a["order"] == number}
            assert sorted(outcomes.values()) in (["CANCELLED", "REJECTED"], ["REJECTED", "SHIPMENT_RECORDED"])
            status = scalar(select(orders.c.status).where(orders.c.order_number == number))
            parcels = scalar(select(func.count()).select_from(shipments.join(orders))
                             .where(orders.c.order_number == number))
            if outcomes["CancelOrder"] == "CANCELLED":
                assert (str(getattr(status, "value", status)), parcels) == ("CANCELLED", 0)
            else:
                assert str(getattr(status, "value", status)) == "SHIPPED" and parcels == 1
        # Upsert against IssueRefund: the service's refund survives the ERP's document.
        for number in upsert_orders:
            outcomes = {a["operation"]: a["Outcome"] for a in answers if a["order"] == number}
            assert outcomes == {"UpsertOrders": "UPDATED", "IssueRefund": "REFUNDED"}
            assert refunded(number, "SERVICE") == (1, Decimal("5.00"))
        # The change feed: one event per executed change, ids only going up.
        feed = connection.execute(select(order_events.c.id, order_events.c.event_type)
                                  .where(order_events.c.id > first_event).order_by(order_events.c.id)).all()
    kinds = Counter(row.event_type for row in feed)
    assert kinds == Counter({
        "RefundIssued": by_operation[("IssueRefund", "REFUNDED")],
        "OrderCancelled": by_operation[("CancelOrder", "CANCELLED")],
        "ShipmentRecorded": by_operation[("RecordShipment", "SHIPMENT_RECORDED")],
        "OrderUpserted": by_operation[("UpsertOrders", "UPDATED")],
    })
    assert by_operation[("IssueRefund", "REFUNDED")] == REFUND_ORDERS * 7 + 1 + UPSERT_RACES
    assert by_operation[("CancelOrder", "CANCELLED")] + by_operation[("RecordShipment", "SHIPMENT_RECORDED")] == RACES
    assert len({row.id for row in feed}) == len(feed)
    # The reader polling during the run saw every event once, in order.
    assert seen == [row.id for row in feed]
    assert len(retries) < len(jobs) // 10, "most calls must go through at the first attempt"
