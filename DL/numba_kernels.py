"""Faster Numba code for things PyTensor's Numba engine compiles slowly.

PyTensor's default mode compiles a graph into one Numba function.  Profiling
an MLP 784-500-10 (``benchmarks/compare.py``, batch 256, float32) showed three of
its defaults costing as much as the matrix products or more:

1. **tanh.** Numba calls the C library's scalar ``tanhf`` once per element
   (about 25 ns an element on the benchmark's CPU) and cannot vectorize the
   call.  For float32, DL gives Numba a rational approximation instead, the one
   Eigen (and so XLA and TensorFlow) uses on CPUs::

       tanh(x) ~= x p(x^2) / q(x^2),   |x| clamped to 7.9988,
       p of degree 6, q of degree 3; tanh(x) = x for |x| < 0.0004

   It is plain arithmetic, so Numba vectorizes it: about 0.5 ns an element.
   Over every 61st float32 in [-10, 10] its error is at most 4.4 ulp (mean 0.12
   ulp; NumPy's float32 tanh: 1.4 ulp); it reaches exactly +-1, stays within
   [-1, 1] and keeps NaN a NaN (so the non-finite guard of ``optimize`` still
   sees it).  float64 keeps the C library's tanh: gradient checks run in
   float64 and are unchanged.  ``DL_FAST_TANH=0`` keeps PyTensor's tanh.

2. **Broadcasting a bias.**  ``ExpandDims`` (``b.dimshuffle('x', 0)``) returns
   an array Numba types with layout 'A' (any strides); the Elemwise loop that
   reads it then computes every address from run-time strides and is not
   vectorized (``tanh(x W + b)`` took 4x ``tanh(x W + c)`` with c a matrix).
   For a C-contiguous input DL's ExpandDims is a reshape, which Numba types
   'C': the same numbers, read with unit stride.

3. **Transposed operands.**  ``x.T`` came back with layout 'A' too, and Numba
   copies an 'A' array before handing it to BLAS.  DL's matrix transpose of a
   C (or F) array is Numba's own ``x.T``, typed F (or C), which BLAS reads in
   place.

``register()`` installs them; ``DL.backend`` calls it the first time the Numba
engine compiles a graph, so importing DL does not import Numba.
"""
import hashlib
import os

import numpy

# Bump when the code below changes: PyTensor caches compiled functions on disk
# under these keys, and would otherwise keep running the old code.
CACHE_VERSION = 1

# Eigen's generic_fast_tanh_float (the clamp for FMA machines, with the result
# also clamped to [-1, 1] so that no machine can round past 1).
TANH_CLAMP = 7.99881172180175781
TANH_TINY = 0.0004
TANH_NUMERATOR = (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08,
                  -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16)  # x^1, x^3, ... x^13
TANH_DENOMINATOR = (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
                    1.19825839466702e-06)  # x^0, x^2, ... x^6

_registered = False


def fast_tanh_enabled():
    return os.environ.get("DL_FAST_TANH", "1").strip().lower() not in ("0", "false", "no", "off")


def _key(*parts):
    return hashlib.sha256(repr(("DL.numba_kernels", CACHE_VERSION) + parts).encode()).hexdigest()


def register():
    """Register DL's Numba code for tanh, ExpandDims and matrix transposes with PyTensor (once)."""
    global _registered
    if _registered:
        return
    _registered = True
    if fast_tanh_enabled():
        _register_tanh()
    _register_expand_dims()


def _register_tanh():
    from numba import types
    from numba.extending import overload
    from pytensor.link.numba.dispatch.basic import numba_njit, register_funcify_and_cache_key
    from pytensor.scalar.basic import Tanh

    f32 = numpy.float32
    clamp, tiny, one = f32(TANH_CLAMP), f32(TANH_TINY), f32(1.0)
    a1, a3, a5, a7, a9, a11, a13 = (f32(c) for c in TANH_NUMERATOR)
    b0, b2, b4, b6 = (f32(c) for c in TANH_DENOMINATOR)

    # PyTensor's own njit, so its fast-math flags (no 'nnan'/'ninf': NaN and inf keep
    # their meaning); error_model='numpy', because a division that Python semantics
    # would check for zero cannot be vectorized.
    @numba_njit(error_model="numpy")
    def tanh_float32(x):
        if abs(x) < tiny:
            return x
        x = clamp if x > clamp else x  # (comparisons with NaN are false: NaN passes through)
        x = -clamp if x < -clamp else x
        x2 = x * x
        p = ((((((a13 * x2 + a11) * x2 + a9) * x2 + a7) * x2 + a5) * x2 + a3) * x2 + a1) * x
        q = ((b6 * x2 + b4) * x2 + b2) * x2 + b0
        y = p / q
        y = one if y > one else y
        return -one if y < -one else y

    def dl_tanh(x):
        return numpy.tanh(x)

    @overload(dl_tanh)
    def _dl_tanh_for(x):
        # The Composite's scalar graph may be typed float64 while Numba compiles it
        # for float32 arrays, so the choice is made on Numba's type, not PyTensor's.
        if x == types.float32:
            return lambda x: tanh_float32(x)
        return lambda x: numpy.tanh(x)

    @register_funcify_and_cache_key(Tanh)
    def _numba_tanh(op, node, **kwargs):
        @numba_njit
        def tanh(x):
            return dl_tanh(x)

        return tanh, _key("tanh")


def _register_expand_dims():
    from numba import types
    from numba.extending import overload
    from numpy.lib.stride_tricks import as_strided
    import pytensor.link.numba.dispatch  # noqa: F401 (PyTensor's own code registered first)
    from pytensor.link.numba.dispatch import basic as numba_basic
    from pytensor.tensor.elemwise import DimShuffle

    pytensor_dimshuffle = numba_basic.numba_funcify_and_cache_key.dispatch(DimShuffle)

    def with_new_axes(x, shape, strides):
        return as_strided(x, shape=shape, strides=strides)

    @overload(with_new_axes)
    def _with_new_axes_for(x, shape, strides):
        if isinstance(x, types.Array) and x.layout == "C":
            return lambda x, shape, strides: x.reshape(shape)  # a view, typed 'C'
        return lambda x, shape, strides: as_strided(x, shape=shape, strides=strides)

    def transposed(x):
        return as_strided(x, shape=x.shape[::-1], strides=x.strides[::-1])

    @overload(transposed)
    def _transposed_for(x):
        if isinstance(x, types.Array) and x.layout in "CF":
            return lambda x: x.T  # a view, typed 'F' (or 'C'): BLAS reads it as it is
        return lambda x: as_strided(x, shape=x.shape[::-1], strides=x.strides[::-1])

    @numba_basic.register_funcify_and_cache_key(DimShuffle)
    def _numba_dimshuffle(op, node, **kwargs):
        if op.input_ndim == 2 and tuple(op._new_order) == (1, 0):
            @numba_basic.numba_njit
            def matrix_transpose(x):
                return transposed(x)

            return matrix_transpose, _key("matrix_transpose")
        if not op.is_expand_dims:  # other transposes and squeezes: PyTensor's own code
            return pytensor_dimshuffle(op, node, **kwargs)
        new_order = tuple(op._new_order)
        shape_template = (1,) * node.outputs[0].ndim
        strides_template = (0,) * node.outputs[0].ndim

        @numba_basic.numba_njit
        def expand_dims(x):
            x = numpy.asarray(x)  # (Numba may hand a 0-d input over as a scalar)
            shape, strides = shape_template, strides_template
            for i, o in enumerate(new_order):
                if o != -1:
                    shape = numba_basic.tuple_setitem(shape, i, x.shape[o])
                    strides = numba_basic.tuple_setitem(strides, i, x.strides[o])
            return with_new_axes(x, shape, strides)

        return expand_dims, _key("expand_dims", op.input_ndim, new_order)
