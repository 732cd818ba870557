"""Hypothesis profiles: ``ci`` (quick, the default), ``thorough`` (on demand), ``debug``.

Select with the environment variable ``HYPOTHESIS_PROFILE``, e.g.
``HYPOTHESIS_PROFILE=thorough python -m pytest``.

With ``MICROSEQ_TORCH_SKIPS=FILE`` the run writes to FILE the node ids of the tests (or whole modules) that
skipped because PyTorch could not be imported, one a line: ``.ci/run`` runs exactly those again once it has
installed PyTorch, so the parity tests run without a second full pass of the suite.
"""

import os
from pathlib import Path

from hypothesis import HealthCheck, Verbosity, settings

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile("debug", max_examples=10, deadline=None, verbosity=Verbosity.verbose)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TORCH_MISSING = "could not import 'torch'"  # pytest.importorskip("torch")'s reason


def pytest_terminal_summary(terminalreporter):
    path = os.environ.get("MICROSEQ_TORCH_SKIPS")
    if path:
        skipped = terminalreporter.stats.get("skipped", [])
        ids = dict.fromkeys(report.nodeid for report in skipped if TORCH_MISSING in str(report.longrepr))
        Path(path).write_text("".join(f"{nodeid}\n" for nodeid in ids), encoding="utf-8")
