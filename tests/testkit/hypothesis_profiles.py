"""Hypothesis settings shared by every property-based test module (import it before defining tests).

Why here and not in conftest.py: test modules opt in by importing it, so a run that collects none of them
is unaffected. ``ci`` (the default, what ``make test`` runs) is reproducible and bounded: a fixed seed per
test (derandomize), no example database, so every run tries the same inputs in the same time. ``fuzz``
(``HYPOTHESIS_PROFILE=fuzz``) is the long random search, with the database, for ``make fuzz``.
"""

from __future__ import annotations

import os

from hypothesis import settings

CI_EXAMPLES = 100
FUZZ_EXAMPLES = 25 * CI_EXAMPLES

settings.register_profile("ci", derandomize=True, max_examples=CI_EXAMPLES, deadline=None, database=None)
settings.register_profile("fuzz", max_examples=FUZZ_EXAMPLES, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
