"""Dependencies by need: Dask is DL's `studies` extra, needed by DL.sweep only.

Each test runs a child Python in which Dask cannot be imported: the child sets
`sys.modules['dask'] = sys.modules['distributed'] = None` before anything else,
which makes every `import dask` (or `from distributed import ...`) fail as if
Dask were not installed.  There `import DL.sweep` and `python -m DL.sweep` must
say what to install, and every other module of DL must import and train.
"""
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

REPO = Path(__file__).resolve().parents[1]
TRAIN_SCRIPT = REPO / "tests" / "scripts" / "train.py"
INSTALL_HINTS = ('pip install -e ".[studies]"', 'pip install "dask[distributed]"')
WITHOUT_DASK = "import sys\nsys.modules['dask'] = sys.modules['distributed'] = None\n"


def run_without_dask(code, cwd=None):
    """Run `code` in a child Python that cannot import Dask; the finished process."""
    return subprocess.run([sys.executable, "-c", WITHOUT_DASK + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=HANG, cwd=cwd)


def test_import_dl_sweep_without_dask_says_what_to_install():
    child = run_without_dask("""
        try:
            import DL.sweep
        except ImportError as error:
            print(error)
        else:
            print("imported")
    """)
    assert child.returncode == 0, child.stderr[-3000:]
    message = child.stdout
    assert "Dask" in message and "dask, distributed" in message
    for hint in INSTALL_HINTS:
        assert hint in message


def test_python_m_dl_sweep_without_dask_says_what_to_install():
    child = run_without_dask("""
        import runpy
        sys.argv = ["DL.sweep", "study.py", "--store", "runs"]
        runpy.run_module("DL.sweep", run_name="__main__", alter_sys=True)
    """)
    assert child.returncode != 0
    last_line = child.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: DL.sweep runs studies on Dask")
    for hint in INSTALL_HINTS:
        assert hint in last_line


def test_every_other_module_of_dl_imports_without_dask():
    """Found by walking the package, so a module added later is checked too."""
    child = run_without_dask("""
        import importlib, pkgutil
        import DL, DL.models, DL.optimizers
        names = [m.name for m in pkgutil.walk_packages(DL.__path__, "DL.") if not m.name.startswith("DL.sweep")]
        for name in names:
            importlib.import_module(name)
        print(len(names))
    """)
    assert child.returncode == 0, child.stderr[-3000:]
    assert int(child.stdout.split()[-1]) > 40  # models, optimizers, engine, datasets, io ...


@pytest.mark.slow  # compiles and trains in a fresh process
def test_dl_trains_and_saves_without_dask(tmp_path):
    """tests/scripts/train.py (an MLP with dropout, adam, early stopping, a checkpoint) runs."""
    child = run_without_dask("""
        import runpy
        sys.argv = [%r, "--epochs", "2", "--checkpoint", "checkpoint.npz", "--out", "result.npz"]
        runpy.run_path(sys.argv[0], run_name="__main__")
        assert sys.modules["dask"] is None  # nothing put Dask back
    """ % str(TRAIN_SCRIPT), cwd=str(tmp_path))
    assert child.returncode == 0, child.stderr[-3000:]
    from DL import io
    params, meta = io.load(tmp_path / "result.npz")
    assert len(params) == 4 and len(meta["valid_errors"]) == 2


def test_dask_is_the_studies_extra_not_a_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith(("dask", "distributed"))]
    assert project["optional-dependencies"]["studies"] == ["dask[distributed]>=2024.1"]
    makefile = (REPO / "Makefile").read_text()
    assert "pip install --quiet -e '.[test,jax,studies]'" in makefile
    assert "$(VENV)/.installed: pyproject.toml" in makefile
