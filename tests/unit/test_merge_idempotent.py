"""The property the importer's skip of unchanged records rests on: merging the document that was just
merged changes nothing (see ``ingest.batches``: a record whose fingerprint is stored beside an order that
has not changed since is not merged again)."""

from __future__ import annotations

import copy
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soap_orders.domain.merge import UpsertOutcome, UpsertReasonCode, merge_into
from tests.examples import examples
from tests.unit.test_merge import LATER, erp_documents, service_history, state


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(service_history(), st.lists(erp_documents(), min_size=1, max_size=3))
def test_a_document_merged_again_changes_nothing(stored: object, documents: list[object]) -> None:
    for incoming in documents:
        again = copy.deepcopy(incoming)
        first = merge_into(stored, incoming, now=LATER)  # type: ignore[arg-type]
        before = state(stored)
        stored.events.clear()  # type: ignore[attr-defined]
        second = merge_into(stored, again, now=LATER + timedelta(days=1))  # type: ignore[arg-type]
        if first.accepted:
            assert (second.outcome, second.changed) == (UpsertOutcome.UNCHANGED, ())
            assert second.reason_code is first.reason_code or first.reason_code is not UpsertReasonCode.NONE
            assert state(stored) == before
            assert stored.events == []  # type: ignore[attr-defined]
        else:
            assert second.outcome is UpsertOutcome.REJECTED and second.reason_code is first.reason_code
