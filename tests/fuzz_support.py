"""Counts of fuzzed inputs, printed in pytest's summary (see conftest.pytest_terminal_summary)."""

import collections
import os

COUNTS: collections.Counter = collections.Counter()

# `make test` keeps the fuzzing short; `make fuzz` sets KTPY_FUZZ_EXAMPLES for a long run.
EXAMPLES = int(os.environ.get("KTPY_FUZZ_EXAMPLES", "120"))
