"""Layout of the suite: the tests mirror the source. ``tests/<package>/test_<module>.py`` tests
``microseq/<package>/<module>.py`` (``tests/ops/test_shape.py`` -> ``microseq/ops/shape.py``), and
``tests/test_<module>.py`` a top-level module (``tests/test_autograd.py`` -> ``microseq/autograd.py``). A module
whose tests are too many for one file splits them as ``test_<module>_<aspect>.py`` (``test_shape_getitem.py``,
``test_autograd_higher_order.py``). Checks that run over a whole package at once sit in its folder under their
own name (``tests/ops/test_errors.py``, ``test_second_derivatives.py``, ``test_rule_ops.py``); tests of the
project as a whole (README, tutorials, packaging, imports) sit at the top. Shared Hypothesis strategies live in
``microseq.testing``; case tables shared between test modules of one folder stay in that folder.

Hypothesis profiles: ``ci`` (quick, the default), ``thorough`` (on demand), ``debug``.

Select with the environment variable ``HYPOTHESIS_PROFILE``, e.g.
``HYPOTHESIS_PROFILE=thorough python -m pytest``.

The suite runs BLAS (and OpenMP) on one thread, in this process and in the scripts it starts (tutorials,
the CLI), unless ``OPENBLAS_NUM_THREADS`` and friends say otherwise: the tests multiply small matrices, and on
a busy machine a multi-threaded OpenBLAS spins for cores that others hold. Measured on the shared 2-core
machine at load 8-9: tutorial 9 (then 8) in quick mode took 33-65 s of wall time (9-18 s of CPU) with two threads and
9 s (2.4 s of CPU) with one.

Tests marked ``slow`` are left out of a run that selects no marker (``-m``) and names none of them:
``python -m pytest -m slow`` runs them, ``-m "slow or not slow"`` runs everything (as ``.ci/run`` does).

With ``MICROSEQ_TORCH_SKIPS=FILE`` the run writes to FILE the node ids of the tests (or whole modules) that
skipped because PyTorch could not be imported, one a line: ``.ci/run`` runs exactly those again once it has
installed PyTorch, so the parity tests run without a second full pass of the suite.
``MICROSEQ_REFERENCE_SKIPS=FILE`` does the same for the other reference implementations some tests compare
with (gensim, scikit-learn, SciPy, NLTK; ``REFERENCE_PACKAGES``), which no extra installs: ``.ci/run`` installs
them in a last step, after the README's environment has been tested as a user gets it.
"""

import os
import sys
from pathlib import Path

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # read when NumPy (or PyTorch) loads its BLAS, here or in a subprocess
if "numpy" in sys.modules:  # loaded before this file (by a plugin): tell its OpenBLAS directly
    from microseq._threads import set_blas_threads

    set_blas_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))

import pytest  # noqa: E402
from hypothesis import HealthCheck, Verbosity, settings  # noqa: E402

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

# What pytest.importorskip says when a reference library is absent: import name -> its name on PyPI.
REFERENCE_PACKAGES = {"gensim": "gensim", "sklearn": "scikit-learn", "scipy": "scipy", "nltk": "nltk"}


def skipped_for(reference: str, reports) -> list[str]:
    """The node ids of the skip reports whose reason is that ``reference`` (an import name) is missing."""
    marker = f"could not import '{reference}"  # also matches a submodule: 'gensim.models'
    return list(dict.fromkeys(report.nodeid for report in reports if marker in str(report.longrepr)))


def pytest_collection_modifyitems(config, items):
    if config.option.markexpr:
        return
    named = {arg for arg in config.args if "::" in arg}
    slow = [item for item in items if item.get_closest_marker("slow") and item.nodeid not in named]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item not in slow]


def pytest_terminal_summary(terminalreporter):
    skipped = terminalreporter.stats.get("skipped", [])
    path = os.environ.get("MICROSEQ_TORCH_SKIPS")
    if path:
        ids = skipped_for("torch", skipped)
        Path(path).write_text("".join(f"{nodeid}\n" for nodeid in ids), encoding="utf-8")
    path = os.environ.get("MICROSEQ_REFERENCE_SKIPS")
    if path:  # one "pypi-name node-id" a line
        lines = [f"{pypi} {nodeid}\n" for module, pypi in REFERENCE_PACKAGES.items()
                 for nodeid in skipped_for(module, skipped)]
        Path(path).write_text("".join(lines), encoding="utf-8")


@pytest.fixture
def two_blas_threads():
    """NumPy's OpenBLAS on two threads for the test (skipped where it cannot be), then as it was."""
    from microseq._threads import get_blas_threads, set_blas_threads

    before = get_blas_threads()
    if before is None:
        pytest.skip("NumPy does not use a bundled OpenBLAS")
    set_blas_threads(2)
    if get_blas_threads() != 2:
        set_blas_threads(before)
        pytest.skip("this OpenBLAS cannot run two threads")
    yield
    set_blas_threads(before)
