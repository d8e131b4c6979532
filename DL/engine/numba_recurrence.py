"""What the Numba kernels of DL's fused recurrences share (`DL.engine.numba_lstm`,
`DL.engine.numba_gru`): the gate functions, and compiling and caching the kernels.

A fused recurrence's module writes each kernel as a Python function of
`(arrays, fast)`, `arrays` a tuple of NumPy arrays, decorated with `@kernel`;
`entry_points(module_name, forward, backward)` compiles them on first use into
functions of `(*arrays, fast)`, callable from Python (an Op's `perform`) and from
Numba code (the Op's Numba dispatch).

`fast` chooses the gate functions: True takes DL's float32 sigmoid and tanh
(`DL.engine.numba_kernels`; the C library's in float64), False the C library's
(DL_FAST_TANH=0).  Inside a kernel it must be a compile-time constant: a branch
at run time stopped LLVM from vectorizing the loops over the gates.  So the
entry point turns the run-time flag into one of two constants, and Numba
compiles the kernel once for each.
"""
import functools
import hashlib
import importlib

import numpy
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload

from DL.engine.numba_linker import njit
from DL.engine import numba_kernels
from DL.engine.numba_kernels import dl_sigmoid, dl_tanh, libm_sigmoid, libm_tanh

# The backward kernels sum the mask's gradient over a row in this many partial sums
# (numba_kernels.lane_sum): 16 float32 lanes, one AVX-512 vector or two of AVX2.
MASK_SUM_LANES = 16


def sigmoid(x, fast):
    """dl_sigmoid(x) if fast else libm_sigmoid(x), chosen when Numba compiles (`fast` a constant)."""


def tanh(x, fast):
    """dl_tanh(x) if fast else libm_tanh(x), chosen when Numba compiles."""


def _chosen_by_literal(fast, fast_version, libm_version):
    if not isinstance(fast, types.BooleanLiteral):
        raise TypingError("DL.engine.numba_recurrence: `fast` must be a constant, True or False")
    return fast_version if fast.literal_value else libm_version


@overload(sigmoid, prefer_literal=True)
def _sigmoid_for(x, fast):
    return _chosen_by_literal(fast, lambda x, fast: dl_sigmoid(x), lambda x, fast: libm_sigmoid(x))


@overload(tanh, prefer_literal=True)
def _tanh_for(x, fast):
    return _chosen_by_literal(fast, lambda x, fast: dl_tanh(x), lambda x, fast: libm_tanh(x))


def kernel(function):
    """Make `function(arrays, fast)` callable from Numba code with `fast` kept a constant
    (an overload that prefers literal arguments), compiled as DL's njit compiles (IEEE
    arithmetic, DL.engine.numba_linker) and error_model='numpy' (a division checked for
    zero cannot be vectorized).

    `function` itself is returned unchanged, so that Numba's cache key, which pickles
    the entry point's closure, names it by module and name (a compiled dispatcher
    would pickle with an id that differs in every process)."""
    options = dict(njit(error_model="numpy")(function).targetoptions)

    @overload(function, prefer_literal=True, strict=False, jit_options=options)
    def _compiled(arrays, fast):
        return function

    return function


@njit
def forward_arrays(input_part, n_gates):
    """What a forward kernel starts from: input_part `(n_timesteps, n_examples, n_gates n)`
    in C order (it comes in any layout), n, and H `(n_timesteps, n_examples, n)` and the
    gates (input_part's shape), empty, to fill."""
    input_part = numpy.ascontiguousarray(input_part)
    n_timesteps, n_examples, width = input_part.shape
    n = width // n_gates
    return input_part, n, numpy.empty((n_timesteps, n_examples, n), input_part.dtype), numpy.empty_like(input_part)


def _entry_point(function, sources):
    """`function(arrays, fast)` as a compiled function of `(*arrays, fast)`, cached by
    Numba on disk (in __pycache__ beside this file, or Numba's user cache).  Numba's
    cache key holds the code and the values in its closure: `function` and `sources`,
    the digest of the kernels' sources, so that a change to the kernels, or to the
    tanh or exp they use, compiles them afresh."""

    def run(*arguments):
        assert sources  # (in the closure: in the cache key)
        if arguments[-1]:  # (constants: the kernel is compiled for each, with its functions chosen)
            return function(arguments[:-1], True)
        return function(arguments[:-1], False)

    try:
        return njit(final_function=True, cache=True)(run)
    except RuntimeError:  # Numba found no folder it may write: compile in each process
        return njit(final_function=True)(run)


@functools.lru_cache(maxsize=None)
def source_digest(module_name):
    """SHA-256 of the compiled code's sources: `module_name`'s file, this one and
    DL/engine/numba_kernels.py (read once per process), for the cache keys."""
    digest = hashlib.sha256()
    for module in (numba_kernels, importlib.import_module(__name__), importlib.import_module(module_name)):
        with open(module.__file__, "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()


_compiled = {}


def entry_points(module_name, *functions):
    """The entry points of `functions` (kernels of the module `module_name`), made on
    first use; each takes the kernel's arrays, then `fast`
    (`DL.engine.numba_kernels.fast_tanh_enabled()`)."""
    if module_name not in _compiled:
        sources = source_digest(module_name)
        _compiled[module_name] = tuple(_entry_point(function, sources) for function in functions)
    return _compiled[module_name]
