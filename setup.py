"""Shim for `python setup.py develop`; the project is described in pyproject.toml."""
from setuptools import setup

setup()
