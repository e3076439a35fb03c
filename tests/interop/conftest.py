"""The server and the orders the golden examples name, as tests/contract/test_examples.py sets
them up (a return window wide enough for the example orders delivered in 2025)."""

from tests.contract.test_examples import example_orders, server  # noqa: F401
