"""The orders the golden examples name, stored once per server (see tests/contract/test_examples.py)."""

from tests.contract.test_examples import example_orders  # noqa: F401
