"""The original package's install command, `python setup.py develop`, in a fresh
`python -m venv`: the project's configuration must parse with the setuptools such a
venv brings (65.5 on Python 3.11, bundled with ensurepip, so nothing downloads).

The test copies the project's own files to a temporary folder and asks the fresh
venv's setuptools for the version and the metadata (`setup.py egg_info`), which
reads all of pyproject.toml; installing the dependencies would need the network.
"""
import ensurepip
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

slow = pytest.mark.slow  # left out of `make test-quick`: installs into a venv

REPO = Path(__file__).resolve().parents[1]
PROJECT_FILES = ["setup.py", "pyproject.toml", "README.md", "LICENSE"]


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A `python -m venv` with the setuptools ensurepip bundles (65.5 on Python 3.11).

    `python -m venv` installs pip and setuptools from ensurepip's bundled wheels; here
    only setuptools is unpacked (a wheel of pure Python is a zip of site-packages),
    which gives the same setuptools in a second instead of half a minute."""
    bundled = getattr(ensurepip, "_get_packages", lambda: {})().get("setuptools")
    if bundled is None:
        pytest.skip("this Python's ensurepip bundles no setuptools (it stopped in 3.12), so a "
                    "fresh venv has no `python setup.py develop` to run")
    folder = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True,
                   capture_output=True, timeout=HANG)
    python = folder / "bin" / "python"
    site_packages = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    wheel = bundled.wheel_path or str(Path(ensurepip.__file__).parent / "_bundled" / bundled.wheel_name)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site_packages)
    found = subprocess.run([str(python), "-c", "import setuptools; print(setuptools.__version__)"],
                           capture_output=True, text=True, check=True)
    assert found.stdout.strip() == bundled.version
    return python, bundled.version


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        shutil.copy(REPO / name, folder / name)
    shutil.copytree(REPO / "DL", folder / "DL", ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def run_setup(python, project, *args):
    completed = subprocess.run([str(python), "setup.py"] + list(args), cwd=str(project),
                               capture_output=True, text=True, timeout=HANG)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_the_venv_brings_a_setuptools_older_than_spdx_licenses(fresh_venv):
    # what the test below proves is worth proving only with an old setuptools:
    # on Python 3.11 ensurepip bundles 65.5, and SPDX license strings need 77
    python, version = fresh_venv
    if sys.version_info[:2] == (3, 11):
        assert tuple(int(part) for part in version.split(".")[:2]) < (77, 0), version


@slow
def test_setup_py_reads_the_project_with_the_venvs_own_setuptools(fresh_venv, project_copy):
    python, _ = fresh_venv
    assert run_setup(python, project_copy, "--version").strip().splitlines()[-1] == "0.1.0"
    run_setup(python, project_copy, "-q", "egg_info")
    info = project_copy / "DL.egg-info"
    metadata = (info / "PKG-INFO").read_text()
    assert "Name: DL\n" in metadata and "Version: 0.1.0\n" in metadata
    assert "Classifier: License :: OSI Approved :: MIT License" in metadata
    assert "License-File: LICENSE" in metadata
    requires = (info / "requires.txt").read_text()
    for dependency in ("pytensor>=3.0.7", "numpy>=1.23", "scipy", "tqdm", "sparkprob", "matplotlib",
                       "scikit-learn"):
        assert dependency in requires
    packages = (info / "top_level.txt").read_text().split()
    assert packages == ["DL"]
    sources = (info / "SOURCES.txt").read_text()
    assert "DL/optimizers/training.py" in sources and "DL/models/LSTM.py" in sources


@slow
def test_setup_py_develop_links_the_checkout_into_the_venv(fresh_venv, project_copy):
    """develop itself, with the venv's own setuptools: afterwards the venv imports DL from
    the checkout.  (--no-deps: the dependencies would come from the network; without it,
    setup.py hands them to pip, which picks the releases made for this Python.)"""
    python, _ = fresh_venv
    run_setup(python, project_copy, "-q", "develop", "--no-deps")
    found = subprocess.run([str(python), "-c", "import importlib.util; print(importlib.util.find_spec('DL').origin)"],
                           capture_output=True, text=True, check=True, cwd="/")
    assert Path(found.stdout.strip()) == project_copy / "DL" / "__init__.py"
