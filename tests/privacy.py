"""A customer with personal data no other test data shares, and the scans that look for it: in every
column of every table of the live schema, and in log text.

Each value carries a random token, so a scan of a database other tests also write to finds this
customer's data and nothing else's."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, inspect, text
from sqlalchemy.sql import quoted_name

from tests.records import delivered, order_record, subscription_record, unique


@dataclass(frozen=True)
class Person:
    token: str
    email: str
    first_name: str
    last_name: str
    phone: str
    line1: str
    note: str

    def values(self) -> dict[str, str]:
        """What must never be found once the customer is forgotten, by what it is."""
        return {"email": self.email, "first name": self.first_name, "last name": self.last_name,
                "phone": self.phone, "address": self.line1, "note": self.note}

    @property
    def customer(self) -> dict[str, str]:
        return {"Email": self.email, "FirstName": self.first_name, "LastName": self.last_name, "Phone": self.phone}

    @property
    def address(self) -> dict[str, str]:
        return {"Name": f"{self.first_name} {self.last_name}", "Line1": self.line1, "City": "Leeds",
                "PostalCode": "LS1 4AP", "CountryCode": "GB", "Phone": self.phone}


def person() -> Person:
    token = uuid.uuid4().hex[:10]
    return Person(
        token=token,
        email=f"Zelda.{token}@Example.com",  # mixed case: emails are matched in any case
        first_name=f"Zelda{token}",
        last_name=f"Quist{token}",
        phone=f"+44 7700 9{random.randrange(10**8):08d}",
        line1=f"{token} Privet Drive",
        note=f"Call Zelda{token} after six",
    )


def personal_order(who: Person, number: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A delivered order of ``who``'s with a completed return whose label and reason name them."""
    record = delivered(order_record(number or unique("PRIV"), who.email, **overrides))
    record["Customer"] = dict(who.customer)
    record["ShippingAddress"] = dict(who.address)
    record["Returns"] = [{
        "ReturnId": f"RT-{record['OrderNumber']}", "Status": "COMPLETED", "Reason": who.note,
        "LabelUrl": f"https://labels.example.com/{who.first_name}.pdf", "CreatedAt": "2026-03-05T09:00:00Z",
        "WarehouseStatus": "ACCEPTED", "RefundStatus": "NOT_STARTED",
        "Items": [{"Sku": "MUG-RED", "Quantity": 1, "LineNumber": 1}],
    }]
    record["Lines"][0]["QuantityReturned"] = 1
    return record


def personal_subscription(who: Person, sid: str | None = None, **overrides: Any) -> dict[str, Any]:
    record = subscription_record(sid or unique("SUBPRIV"), who.email, **overrides)
    record["Customer"] = dict(who.customer)
    record["ShippingAddress"] = dict(who.address)
    return record


def copies_in_database(engine: Engine, who: Person) -> list[str]:
    """``table.column: what`` for every value of ``who`` found (any case, JSON-escaped too) in any
    column of any table the database holds, the tables read from its live schema."""
    needles = {what: {value.lower(), json.dumps(value)[1:-1].lower()} for what, value in who.values().items()}
    found = []
    inspector = inspect(engine)
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            columns = [column["name"] for column in inspector.get_columns(table)]
            selected = ", ".join(f"CAST({_quoted(engine, c)} AS TEXT)" for c in columns)
            for row in connection.execute(text(f"SELECT {selected} FROM {_quoted(engine, table)}")):
                for column, cell in zip(columns, row, strict=True):
                    if cell is None:
                        continue
                    cell = str(cell).lower()
                    found += [f"{table}.{column}: {what}" for what, forms in needles.items()
                              if any(form in cell for form in forms)]
    return sorted(set(found))


def copies_in_text(log: str, who: Person) -> list[str]:
    lowered = log.lower()
    return [what for what, value in who.values().items()
            if value.lower() in lowered or json.dumps(value)[1:-1].lower() in lowered]


def table_count(engine: Engine) -> int:
    return len(inspect(engine).get_table_names())


def _quoted(engine: Engine, name: str) -> str:
    return engine.dialect.identifier_preparer.quote(quoted_name(name, quote=True))
