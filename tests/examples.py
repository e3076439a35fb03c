"""How many examples the property tests try.

The normal suite tries what each test asks for (Hypothesis' 100 unless its ``@settings`` says more),
from a fresh random seed each run. Under mutation testing (``make mutation``, docs/mutation.md) the
unit tests run once per mutant, so there they try at most ``MUTATION_EXAMPLES`` examples, chosen
by a seed derived from the test (``derandomize``) and without the example database: the same
examples for every mutant and every run, so a mutant's verdict can be reproduced. mutmut sets
``MUTANT_UNDER_TEST`` in every process it runs the tests in; nothing else does.
"""

from __future__ import annotations

import os

from hypothesis import settings

MUTATION_EXAMPLES = 30
UNDER_MUTATION = "MUTANT_UNDER_TEST" in os.environ

settings.register_profile("mutation", max_examples=MUTATION_EXAMPLES, derandomize=True, database=None)
if UNDER_MUTATION:
    # Loaded before any test module is imported (tests/conftest.py imports this module): a test's
    # @settings takes what it does not set from the profile loaded when it is decorated.
    settings.load_profile("mutation")


def examples(wanted: int) -> int:
    """The ``max_examples`` of a property test that asks for ``wanted`` examples."""
    return min(wanted, MUTATION_EXAMPLES) if UNDER_MUTATION else wanted
