"""SOAP_ORDERS_DG_* settings, the Retry-After reader and the backoff schedule."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from soap_orders.adapters.flow_client import (
    RequestsFlowClient,
    exponential_backoff,
    parse_retry_after,
)
from soap_orders.bootstrap import flow_routes
from soap_orders.config import ConfigError, Settings
from soap_orders.domain.notifications import FlowEventType


def test_a_region_picks_the_documented_address_and_the_base_url_overrides_it() -> None:
    assert Settings.from_env({"SOAP_ORDERS_DG_REGION": "us"}).dg.endpoint == \
        "https://flow-server.us.dgdeepai.com/execution"
    assert Settings.from_env({"SOAP_ORDERS_DG_REGION": " EU "}).dg.endpoint == \
        "https://flow-server.eu.dgdeepai.com/execution"
    overridden = Settings.from_env({"SOAP_ORDERS_DG_REGION": "eu", "SOAP_ORDERS_DG_BASE_URL": "http://127.0.0.1:9/"})
    assert overridden.dg.endpoint == "http://127.0.0.1:9/execution"
    assert Settings.from_env({}).dg.endpoint is None


def test_flow_ids_become_routes_and_unset_types_are_left_out() -> None:
    dg = Settings.from_env({"SOAP_ORDERS_DG_FLOW_DELIVERED": "f-1", "SOAP_ORDERS_DG_FLOW_RETURN_UPDATED": "f-2"}).dg
    assert flow_routes(dg) == {FlowEventType.DELIVERED: "f-1", FlowEventType.RETURN_UPDATED: "f-2"}


def test_skipped_types_are_read_in_either_spelling_and_never_with_a_flow_id() -> None:
    dg = Settings.from_env({"SOAP_ORDERS_DG_SKIP": " item-out-of-stock, RETURN_UPDATED item_out_of_stock "}).dg
    assert dg.skip == ("item_out_of_stock", "return_updated")
    assert Settings.from_env({}).dg.skip == ()
    with pytest.raises(ConfigError) as both:
        Settings.from_env({"SOAP_ORDERS_DG_SKIP": "delivered", "SOAP_ORDERS_DG_FLOW_DELIVERED": "f-1"})
    assert str(both.value) == ("SOAP_ORDERS_DG_SKIP names delivered, which has a flow id "
                               "(SOAP_ORDERS_DG_FLOW_DELIVERED): send it or skip it, not both")
    with pytest.raises(ConfigError) as unknown:
        Settings.from_env({"SOAP_ORDERS_DG_SKIP": "delivered,parcel_lost"})
    assert str(unknown.value) == ("SOAP_ORDERS_DG_SKIP must list event types: shipment_delayed, "
                                  "item_out_of_stock, delivered, return_updated")


def test_how_long_notifications_may_wait_before_a_warning() -> None:
    assert Settings.from_env({}).outbox_warn_after == 600
    assert Settings.from_env({"SOAP_ORDERS_OUTBOX_WARN_AFTER": "0"}).outbox_warn_after == 0
    with pytest.raises(ConfigError, match="SOAP_ORDERS_OUTBOX_WARN_AFTER must be between 0 and 2592000"):
        Settings.from_env({"SOAP_ORDERS_OUTBOX_WARN_AFTER": "-1"})


def test_the_secret_is_never_in_a_repr(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({"SOAP_ORDERS_DG_API_KEY": "key-1", "SOAP_ORDERS_DG_API_SECRET": "s3cr3t-value"})
    client = RequestsFlowClient("http://127.0.0.1:9/execution", "key-1", "s3cr3t-value",
                                connect_timeout=1, read_timeout=1)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("settings %r client %r", settings, client)
    assert settings.dg.api_secret == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in repr(client)
    assert "s3cr3t-value" not in caplog.text
    client.close()


@pytest.mark.parametrize(("name", "value", "message"), [
    ("REGION", "asia", "SOAP_ORDERS_DG_REGION must be eu or us"),
    ("BASE_URL", "ftp://example.com", "SOAP_ORDERS_DG_BASE_URL must be an http:// or https:// URL"),
    ("BASE_URL", "https://example.com/?x=1", "SOAP_ORDERS_DG_BASE_URL must be an http:// or https:// URL"),
    ("MAX_ATTEMPTS", "many", "SOAP_ORDERS_DG_MAX_ATTEMPTS must be a whole number"),
    ("MAX_ATTEMPTS", "0", "SOAP_ORDERS_DG_MAX_ATTEMPTS must be between 1 and 1000"),
    ("READ_TIMEOUT", "nan", "SOAP_ORDERS_DG_READ_TIMEOUT must be between"),
    ("CONNECT_TIMEOUT", "soon", "SOAP_ORDERS_DG_CONNECT_TIMEOUT must be a number"),
    ("RETENTION_DAYS", "-1", "SOAP_ORDERS_DG_RETENTION_DAYS must be between 1 and 3650"),
    ("FLOW_DELIVERED", "has space", "SOAP_ORDERS_DG_FLOW_DELIVERED must be a flow id"),
    ("API_KEY", "a:b", "SOAP_ORDERS_DG_API_KEY must not contain ':'"),
    ("BACKOFF_MAX", "0.5", "SOAP_ORDERS_DG_BACKOFF_MAX must not be less than"),
    ("LEASE", "10", "SOAP_ORDERS_DG_LEASE must be at least twice"),
])
def test_a_bad_value_is_a_clear_start_up_error(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({f"SOAP_ORDERS_DG_{name}": value})
    assert str(raised.value).startswith(message)
    if not value.lstrip("-").replace(".", "").isdigit():  # numbers may coincide with the bounds named
        assert value not in str(raised.value)  # the bad value is not echoed


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_the_backoff_grows_exponentially_with_bounded_jitter_up_to_the_cap() -> None:
    backoff = exponential_backoff(2.0, 60.0)
    for failures, low in ((1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)):
        samples = [backoff(failures) for _ in range(50)]
        assert all(low <= s <= low + 2.0 for s in samples)
        assert len(set(samples)) > 1  # jittered
    assert all(backoff(20) == 60.0 for _ in range(10))
