"""Every operation of the contract, each declared once (see ``base.Operation``).

Adding an operation means adding its declaration to a capability module here and its module's
``OPERATIONS`` to the tuple below; the SOAP service, the JSON routes, OpenAPI, the scope check and
``check`` pick it up from this registry.
"""

from __future__ import annotations

from .base import Call, Operation, Services, action, outcome_of
from .erp import OPERATIONS as ERP_OPERATIONS
from .order_actions import OPERATIONS as ORDER_ACTION_OPERATIONS
from .orders import OPERATIONS as ORDER_OPERATIONS
from .privacy import OPERATIONS as PRIVACY_OPERATIONS
from .subscriptions import OPERATIONS as SUBSCRIPTION_OPERATIONS

OPERATIONS: tuple[Operation, ...] = (
    *ORDER_OPERATIONS, *ORDER_ACTION_OPERATIONS, *ERP_OPERATIONS, *SUBSCRIPTION_OPERATIONS, *PRIVACY_OPERATIONS,
)
BY_NAME: dict[str, Operation] = {operation.name: operation for operation in OPERATIONS}

__all__ = ["BY_NAME", "OPERATIONS", "Call", "Operation", "Services", "action", "outcome_of"]
