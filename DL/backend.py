"""The engine, imported in one place: ``from DL.backend import theano, T``.

Model code, examples and user scripts import the engine from here, so that they
read like Theano and run on whichever engine DL was started with: PyTensor (the
default) or legacy Theano 1.0.5 (``DL_BACKEND=theano``).  The engine's
internals (its selection, DL's Ops and kernels) live in ``DL.engine``.

Exports: ``theano`` (the engine module), ``T`` (its tensor module, with a
``T.nnet`` namespace on both engines), ``shared``, ``function`` (compiles with
DL's rewrites; see ``DL.engine.mode``), ``scan``, ``grad``, ``clone``,
``RandomStreams``, ``floatX``, ``BACKEND``, ``flush_denormals`` (a block in
which the CPU treats denormal floats as zero; DL.engine.denormals) and small
helpers.
"""
from DL.engine.backend import *  # noqa: F401,F403
from DL.engine.backend import __all__  # noqa: F401
