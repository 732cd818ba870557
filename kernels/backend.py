"""Which implementation the public kernels run: "numba" (the fused kernels, default) or "numpy" (the
plain reference in ``reference.py``).

The environment variable MICROSEQ_BACKEND is read once, at import; ``set_backend`` changes the choice at
run time (tests use it to run the same checks on both). ``saved`` tuples are the same for both backends,
so a backward may run on the other backend than its forward.
"""

import os

BACKENDS = ("numba", "numpy")
ENV_VAR = "MICROSEQ_BACKEND"


def _validated(name, source):
    if name not in BACKENDS:
        raise ValueError(f"unknown microseq kernel backend {name!r} (from {source}); "
                         f"expected one of {', '.join(map(repr, BACKENDS))}")
    return name


_current = _validated(os.environ.get(ENV_VAR) or "numba", f"${ENV_VAR}")


def get_backend():
    """The name of the backend the public kernels currently run: "numba" or "numpy"."""
    return _current


def set_backend(name):
    """Make the public kernels run ``name`` ("numba" or "numpy") from now on; return the previous name."""
    global _current
    previous, _current = _current, _validated(name, "set_backend")
    return previous


def use_reference():
    """Whether the NumPy reference is the current backend."""
    return _current == "numpy"
