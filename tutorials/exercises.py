"""The exercise machinery of the tutorials: "implement this" cells, the checks that judge them, the solutions.

A tutorial's exercise is a function the learner fills in, marked with ``@exercise``; the cell right after it
runs a property test on it with ``check``::

    @exercise
    def unbroadcast_by_hand(grad, shape):
        raise NotImplementedError("exercise: sum grad back to shape")

    def unbroadcast_sums_copies(fn):          # the property test (gradcheck, Hypothesis, ...)
        ...

    check(unbroadcast_sums_copies, unbroadcast_by_hand)

The solution of every exercise lives in ``tutorials/solutions/tutorialNN.py`` under the same name. Two
switches, both environment variables:

``MICROSEQ_TUTORIAL_SOLUTIONS=1``
    ``@exercise`` hands back the solution instead of the learner's function, so the whole tutorial runs (a
    learner who is stuck can use it too). In this mode ``check`` also proves that the check is worth
    something: it must pass with the solution, and it must *fail* with the stub (NotImplementedError: the check
    really calls the learner's code) and with each of the plausible wrong answers that the solution module
    lists in ``MISTAKES`` (AssertionError, which includes :class:`microseq.GradcheckError`).
``MICROSEQ_TUTORIAL_OUT``
    Where ``check`` appends one line per judged exercise to ``exercises.log`` (read by the tests).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from hypothesis import Phase, settings

SOLUTIONS = os.environ.get("MICROSEQ_TUTORIAL_SOLUTIONS") == "1"

__all__ = ["SOLUTIONS", "check", "exercises_of"]

settings.register_profile("exercise-must-fail", phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False)


def exercises_of(tutorial: str):
    """The ``@exercise`` decorator of tutorial ``tutorial`` (e.g. ``"02"``): its solutions are in
    ``solutions/tutorial02.py``."""
    module = importlib.import_module(f"solutions.tutorial{tutorial}")

    def exercise(stub):
        if not SOLUTIONS:
            return stub
        solution = getattr(module, stub.__name__, None)
        if solution is None:
            raise LookupError(f"solutions/tutorial{tutorial}.py has no solution named {stub.__name__}")
        solution.stub = stub
        solution.mistakes = module.MISTAKES.get(stub.__name__, ())
        return solution

    return exercise


def _outcome(test, implementation) -> type | None:
    """None when ``test(implementation)`` passes, else the kind of failure: NotImplementedError,
    AssertionError (a wrong answer; Hypothesis may group several into an ExceptionGroup) or the exception."""
    previous = settings.default
    settings.load_profile("exercise-must-fail")  # a failure is expected: no time spent shrinking it
    try:
        test(implementation)
    except Exception as error:  # noqa: BLE001  (sorted below)
        leaves = error.exceptions if isinstance(error, ExceptionGroup) else (error,)
        for kind in (NotImplementedError, AssertionError):
            if all(isinstance(leaf, kind) for leaf in leaves):
                return kind
        return type(error)
    finally:
        settings.register_profile("previous", previous)
        settings.load_profile("previous")
    return None


def check(test, implementation) -> None:
    """Run the property test ``test(implementation)``; with the solutions on, also show that it catches the
    stub and every listed mistake (else raise AssertionError: the exercise is broken)."""
    name = implementation.__name__
    try:
        test(implementation)
    except NotImplementedError:
        print(f"[exercise {name}] not implemented yet: fill in the cell above, then run this one again.")
        raise
    except (AssertionError, ExceptionGroup):
        print(f"[exercise {name}] the check found a mistake (the message below says where); try again.")
        raise
    print(f"[exercise {name}] passed: {test.__name__}")
    if not SOLUTIONS:
        return
    if _outcome(test, implementation.stub) is not NotImplementedError:
        raise AssertionError(f"exercise {name}: {test.__name__} does not call the learner's code (the stub passed)")
    for mistake in implementation.mistakes:
        if _outcome(test, mistake) is not AssertionError:
            raise AssertionError(f"exercise {name}: {test.__name__} does not catch the mistake {mistake.__name__}")
    out = os.environ.get("MICROSEQ_TUTORIAL_OUT")
    if out:
        with open(Path(out) / "exercises.log", "a", encoding="utf-8") as log:
            log.write(f"{name} {test.__name__} mistakes={len(implementation.mistakes)}\n")
