"""Stored ForgetCustomer answers name their parts as the answer does (Forgotten/Orders, Unsettled/
ReasonCode), like every other operation's stored answer

A ForgetCustomer answer kept under its RequestId before this release named the counts and the
unsettled records by the program's attribute names (``orders``, ``change_feed_events``,
``reason_code``); it is rewritten to the wire names, so a replay reads it through the declared
answer. The downgrade writes the attribute names back.

Revision ID: 0015_forget_answers_wire_names
Revises: 0014_derive_line_state
"""

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0015_forget_answers_wire_names"
down_revision = "0014_derive_line_state"
branch_labels = None
depends_on = None

#: The wire name of each attribute the earlier form used, in ForgottenCounts and UnsettledRecord.
WIRE_NAMES = {
    "orders": "Orders",
    "subscriptions": "Subscriptions",
    "change_feed_events": "ChangeFeedEvents",
    "audit_records": "AuditRecords",
    "notifications": "Notifications",
    "stored_answers": "StoredAnswers",
    "order_number": "OrderNumber",
    "subscription_id": "SubscriptionId",
    "reason_code": "ReasonCode",
    "message": "Message",
}
ATTRIBUTE_NAMES = {wire: attribute for attribute, wire in WIRE_NAMES.items()}


def _renamed(part: Any, names: dict[str, str]) -> Any:
    """``part`` (a dict) with its keys renamed by ``names``, None values left out as the answer
    leaves out an absent optional; anything else as it is."""
    if not isinstance(part, dict):
        return part
    return {names.get(key, key): value for key, value in part.items() if value is not None}


def _rewrite(answer: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    rewritten = dict(answer)
    if "Forgotten" in rewritten:
        rewritten["Forgotten"] = _renamed(rewritten["Forgotten"], names)
    if isinstance(rewritten.get("Unsettled"), list):
        rewritten["Unsettled"] = [_renamed(record, names) for record in rewritten["Unsettled"]]
    if rewritten.get("Pseudonym") is None:
        rewritten.pop("Pseudonym", None)
    return rewritten


def _rewrite_all(change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    bind = op.get_bind()
    kept = sa.table("idempotency_records", sa.column("client"), sa.column("request_id"),
                    sa.column("operation"), sa.column("result", sa.JSON))
    rows = bind.execute(sa.select(kept.c.client, kept.c.request_id, kept.c.result)
                        .where(kept.c.operation == "ForgetCustomer")).all()
    for client, request_id, result in rows:
        answer = json.loads(result) if isinstance(result, str) else result
        if not isinstance(answer, dict):
            continue  # claimed, not completed: nothing kept yet
        bind.execute(kept.update().where(kept.c.client == client, kept.c.request_id == request_id)
                     .values(result=change(answer)))


def upgrade() -> None:
    _rewrite_all(lambda answer: _rewrite(answer, WIRE_NAMES))


def downgrade() -> None:
    def earlier(answer: dict[str, Any]) -> dict[str, Any]:
        rewritten = _rewrite(answer, ATTRIBUTE_NAMES)
        rewritten.setdefault("Pseudonym", None)
        for record in rewritten.get("Unsettled") or []:
            record.setdefault("order_number", None)
            record.setdefault("subscription_id", None)
        return rewritten

    _rewrite_all(earlier)
