"""The built wheel installs ``microseq`` (with the kernels as ``microseq.kernels``) and nothing else.

PyPI's popular ``kernels`` package owns the top-level import name ``kernels``; our ``kernels/`` folder must
only ever be installed inside ``microseq``. A fresh clone and the editable install are exercised by every
other test (CI installs with ``pip install -e``); this one builds the wheel from a copy of the source tree,
installs it into an empty folder and imports the kernels from there.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

setuptools = pytest.importorskip("setuptools", reason="building the wheel without network needs setuptools")


def _copy_source(destination: Path) -> Path:
    source = destination / "src"
    ignore = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "figures", "runs")
    shutil.copytree(ROOT, source, symlinks=True, ignore=ignore)
    return source


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = _copy_source(work)
    command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(work)]
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
