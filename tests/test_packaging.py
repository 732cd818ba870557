"""What ``pip install`` gives a user: the wheel's contents, the declared dependencies, a light import.

PyPI's popular ``kernels`` package owns the top-level import name ``kernels``; our ``kernels/`` folder must
only ever be installed inside ``microseq``. A fresh clone and the editable install are exercised by every
other test (CI installs with ``pip install -e``); this one builds the wheel from a copy of the source tree,
installs it into an empty folder and imports the kernels from there.

The wheel is built offline, without build isolation, by the environment's own setuptools: the
``dev`` extra declares the build-system requirements for that reason (a fresh venv's bundled setuptools has
no ``bdist_wheel``), and ``test_dev_extra_brings_the_build_requirements`` keeps the two lists in step.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# Third-party modules the package imports that are not core dependencies, and why.
NOT_CORE = {
    "torch": "optional: the benchmark's reference column, imported only when installed",
    "gensim": "optional: microseq.text.benchmark's word2vec reference, imported only when installed",
    "hypothesis": "microseq.testing's strategies, a test dependency (the dev extra)",
    "llvmlite": "numba's own dependency (the kernels' hand-written LLVM intrinsics)",
}


def _requirement_names(requirements) -> set:
    return {re.split(r"[<>=!~\[;\s]", requirement, maxsplit=1)[0].lower().replace("-", "_")
            for requirement in requirements}


def _copy_source(destination: Path) -> Path:
    source = destination / "src"
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "figures", "runs")
    shutil.copytree(ROOT, source, symlinks=True, ignore=ignore)
    return source


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = _copy_source(work)
    command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
               "--check-build-dependencies", "-q", "-w", str(work)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"building the wheel failed:\n{result.stdout}\n{result.stderr}"
    (built,) = work.glob("microseq-*.whl")
    return built


def test_wheel_holds_only_the_microseq_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {entry for entry in top_level if not entry.endswith(".dist-info")} == {"microseq"}, sorted(top_level)
    kernels = {name for name in names if name.startswith("microseq/kernels/")}
    expected = {f"microseq/kernels/{path.name}" for path in (ROOT / "kernels").glob("*.py")}
    assert expected and expected <= kernels, f"kernel modules missing from the wheel: {sorted(expected - kernels)}"


def test_installed_wheel_imports_the_kernels_under_microseq(wheel, tmp_path):
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)]
    result = subprocess.run(install, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not (target / "kernels").exists(), "the wheel installed a top-level 'kernels' package"
    probe = "import microseq.kernels as k, microseq; print(k.__file__); print(microseq.__file__)"
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    kernels_file, package_file = (Path(line) for line in result.stdout.split())
    assert kernels_file.is_relative_to(target / "microseq" / "kernels"), kernels_file
    assert package_file.is_relative_to(target / "microseq"), package_file


def test_dev_extra_brings_the_build_requirements():
    build = _requirement_names(PYPROJECT["build-system"]["requires"])
    dev = _requirement_names(PYPROJECT["project"]["optional-dependencies"]["dev"])
    assert build <= dev, f"the dev extra lacks the build requirements {sorted(build - dev)} that the wheel test needs"


def _third_party_imports() -> dict:
    """Top-level module name -> files of the package that import it (function-level imports included)."""
    found = {}
    for folder in (ROOT / "microseq", ROOT / "kernels"):
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for top in {name.split(".")[0] for name in names} - set(sys.stdlib_module_names) - {"microseq"}:
                    found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_module_the_package_imports_is_a_core_dependency():
    """A quickstart install (``pip install -e .``, no extras) has everything that a command needs."""
    core = _requirement_names(PYPROJECT["project"]["dependencies"])
    missing = {name: sorted(files) for name, files in _third_party_imports().items()
               if name not in core and name not in NOT_CORE}
    assert not missing, f"imported but not in [project] dependencies: {missing}"
    assert "matplotlib" in core  # `microseq plot` works on the quickstart install


def test_importing_microseq_loads_no_plotting_test_or_torch_module():
    probe = "import sys, microseq; print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'hypothesis', 'torch'}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"import microseq loaded {result.stdout.strip()}"
