"""Shim for `python setup.py develop`; the project is described in pyproject.toml.

`python setup.py develop` is how the original package was installed.  Before
setuptools 80, develop fetched the dependencies with easy_install, which takes
the newest release of each whether or not it supports this Python: on Python
3.11 that is a SciPy with no wheel for 3.11, whose source easy_install cannot
build.  So here develop first hands the dependencies to pip, which picks the
releases made for this Python, as `pip install -e .` does (and as setuptools 80
and later do for develop themselves).  `--no-deps` skips that, as it skips
easy_install.

develop installs DL's dependencies, not its extras (pyproject.toml's
optional-dependencies): studies on Dask (DL.sweep) need
`pip install -e ".[studies]"` or `pip install "dask[distributed]"` besides;
the rest of DL runs without them.
"""
import subprocess
import sys

from setuptools import setup
from setuptools.command.develop import develop


class Develop(develop):
    """develop, with the dependencies installed by pip (see the module's docstring)."""

    def run(self):
        uses_easy_install = hasattr(self, "local_index")  # setuptools < 80
        if uses_easy_install and not self.uninstall and not self.no_deps:
            import pkg_resources  # (gone from setuptools 81 on, where this branch never runs)

            subprocess.check_call([sys.executable, "-m", "pip", "install"] + list(self.distribution.install_requires))
            # easy_install looks for installed releases in this index: rebuild it with pip's
            self.local_index = pkg_resources.Environment(self.shadow_path + sys.path)
        super().run()


setup(cmdclass={"develop": Develop})
