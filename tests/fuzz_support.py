"""Counts of fuzzed inputs and of the readers' verdicts, printed in pytest's summary
(conftest.pytest_terminal_summary)."""

import collections
import os

COUNTS: collections.Counter = collections.Counter()
# Each reader's verdict on each mutated input: "accepted" (it loaded) or "refused" (a KtpyError).
OUTCOMES: collections.Counter = collections.Counter()

# `make test` keeps the fuzzing short; `make fuzz` sets KTPY_FUZZ_EXAMPLES for a long run.
EXAMPLES = int(os.environ.get("KTPY_FUZZ_EXAMPLES", "120"))
