"""An operation's declaration carries what every call needs: its name (taken from its command, which
the use cases key RequestIds and audit records on), whether it writes (it takes a RequestId), and the one
call sequence every way in uses (``authorize``, ``invoke``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from soap_orders.documents import Field
from soap_orders.documents import orders as d
from soap_orders.domain.clients import Scope
from soap_orders.domain.errors import Forbidden, ValidationError
from soap_orders.operations import (
    BY_NAME,
    OPERATIONS,
    Call,
    Operation,
    action,
    outcome_of,
)
from soap_orders.service.auth import Principal
from soap_orders.service.idempotency import operation_of


@dataclass(frozen=True)
class PingOrder:
    order_number: str
    request_id: str | None = None


@dataclass(frozen=True)
class Ran:
    call: Call
    command: PingOrder


def declare(*, request_id: bool = False, **options) -> Operation:
    request = (Field("OrderNumber", d.ORDER_NUMBER, required=True),)
    if request_id:
        request += (Field("RequestId", d.REQUEST_ID, required=True),)
    return Operation(scope=Scope.READ, request=request, command=PingOrder, answer=(),
                     run=lambda call, command: Ran(call, command), **options)


PRINCIPAL = Principal("dg", frozenset({Scope.READ}), "192.0.2.7", "basic")


def test_an_operation_is_named_by_its_command_on_the_wire_and_in_the_use_cases():
    operation = declare()
    assert operation.name == "PingOrder"
    assert operation.request_document.type_name == "PingOrder"
    assert operation.answer_document.type_name == "PingOrderResponse"
    assert operation_of(PingOrder("1001")) == operation.name
    for operation in OPERATIONS:
        assert operation_of(operation.command.__new__(operation.command)) == operation.name


def test_operation_names_are_unique():
    names = [operation.name for operation in OPERATIONS]
    assert len(set(names)) == len(names) == len(BY_NAME)


def test_an_operation_writes_exactly_when_it_takes_a_request_id():
    assert declare().writes is False
    assert declare(request_id=True).writes is True
    for operation in OPERATIONS:
        assert operation.writes == any(f.name == "RequestId" for f in operation.request)


def test_invoke_loads_the_record_and_runs_the_use_case_with_the_call():
    call = Call.by(object(), PRINCIPAL)  # type: ignore[arg-type]
    ran = declare().invoke(call, {"OrderNumber": " 1001 "})
    assert ran.call.caller.client == "dg" and ran.call.caller.address == "192.0.2.7"
    assert isinstance(ran.command, PingOrder) and ran.command.order_number.strip() == "1001"


def test_invoke_refuses_a_bad_record_as_a_validation_error():
    with pytest.raises(ValidationError) as refused:
        declare().invoke(Call.by(object(), PRINCIPAL), {})  # type: ignore[arg-type]
    assert refused.value.field == "OrderNumber"


def test_authorize_refuses_a_caller_without_the_scope():
    declare().authorize(PRINCIPAL)
    act = Operation(scope=Scope.ACT, request=(), command=PingOrder, answer=(),
                    run=lambda call, command: None)
    with pytest.raises(Forbidden, match="orders:act scope needed for PingOrder"):
        act.authorize(PRINCIPAL)


def test_the_outcome_of_a_result_is_its_outcome_or_ok():
    from soap_orders.domain.orders import Outcome

    @dataclass
    class Answered:
        outcome: Outcome

    assert outcome_of(Answered(Outcome.CANCELLED)) == "CANCELLED"
    assert outcome_of(datetime.now(timezone.utc)) == "OK"


def test_an_action_runs_its_use_case_with_a_fresh_unit_of_work_the_clock_and_the_caller():
    seen = []

    class Services:
        clock = staticmethod(lambda: datetime(2026, 3, 1, tzinfo=timezone.utc))
        settings = None
        documents = None

        def uow(self):
            unit = object()
            seen.append(unit)
            return unit

    def cancel_thing(uow, command, clock, caller):
        """Cancel a thing."""
        return uow, command, clock(), caller

    run = action(cancel_thing)
    call = Call.by(Services(), PRINCIPAL)  # type: ignore[arg-type]
    first, second = run(call, "command"), run(call, "command")
    assert first[0] is seen[0] and second[0] is seen[1] and seen[0] is not seen[1]
    assert first[1:] == ("command", datetime(2026, 3, 1, tzinfo=timezone.utc), call.caller)
    assert (run.__name__, run.__doc__) == ("cancel_thing", "Cancel a thing.")
