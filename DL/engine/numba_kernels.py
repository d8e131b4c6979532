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

4. **Sums over every element.**  DL compiles without fast-math
   (``DL.engine.numba_linker``: a cold run then computes what a warm one does), so
   PyTensor's Sum adds one element at a time, a chain of dependent additions: an
   MLP's L2 penalty over 392,500 weights took 0.5 ms, most of its step.  DL's
   ``OrderedSum`` adds rows of SUM_LANES elements into SUM_LANES partial sums (an
   elementwise loop, vectorized), then the partials and the rest, in that order
   wherever it is compiled: 0.045 ms.  Sums over some axes stay PyTensor's.  For the
   same reason the polynomials of the float32 tanh and exp below write their fused
   multiply-adds (``fma``) out.

They apply to DL's graphs only.  PyTensor's own ``Tanh``, ``DimShuffle`` and ``Sum``
keep PyTensor's code everywhere; DL's graphs get subclasses of them, ``FastTanh``,
``ContiguousDimShuffle`` and ``OrderedSum``, substituted by rewrites of the mode DL
compiles with (``DL.engine.mode``), and ``register()`` gives Numba code to those
classes only.  The mode is built, and this module imported (with Numba), the
first time DL compiles a function, so importing DL does not import Numba.

The scalar functions live here for DL's own Numba code too: ``dl_tanh`` and
``dl_sigmoid`` (``exp_float32``, Cephes' expf in arithmetic Numba vectorizes:
within 4.5 ulp, the sigmoid within 1.5e-7 relative where LSTM gates live) pick
the approximations for float32 and the C library's functions otherwise;
``libm_tanh`` and ``libm_sigmoid`` always take the C library's.  The fused LSTM
and GRU (``DL.engine.numba_lstm``, ``DL.engine.numba_gru``) use them, through
``DL.engine.numba_recurrence``.
"""
import functools
import hashlib

import numpy
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload
from pytensor.scalar.basic import Tanh, upgrade_to_float
from pytensor.tensor.elemwise import DimShuffle
from pytensor.tensor.math import Sum

from DL.engine import switched_off
from DL.engine.numba_linker import njit

# PyTensor caches compiled functions on disk under keys that hold this file's digest
# (`_key`); bump this when code elsewhere that they run changes.
CACHE_VERSION = 1

# Eigen's generic_fast_tanh_float (the clamp for FMA machines, with the result
# also clamped to [-1, 1] so that no machine can round past 1).
TANH_CLAMP = 7.99881172180175781
TANH_TINY = 0.0004
TANH_NUMERATOR = (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08,
                  -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16)  # x^1, x^3, ... x^13
TANH_DENOMINATOR = (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
                    1.19825839466702e-06)  # x^0, x^2, ... x^6

# Cephes' expf (as in the SSE/AVX "mathfun" libraries): exp(x) = 2^k exp(r) with
# k = round(x / ln 2) and r = x - k ln 2 (ln 2 in two parts, so that r is exact),
# exp(r) = 1 + r + r^2 p(r).  x is clamped to float32's range first: exp(inf) is
# then 2.4e38 and exp(-inf) 1.2e-38, which a sigmoid maps to 0 and 1.
EXP_HIGH, EXP_LOW = 88.3762626647949, -87.3365447504019
LOG2_E, LN2_HIGH, LN2_LOW = 1.44269504088896341, 0.693359375, -2.12194440e-4
EXP_POLYNOMIAL = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
                  1.6666665459e-1, 5.0000001201e-1)  # p's coefficients, r^5 first

# --- scalar functions for Numba code: PyTensor's graphs and DL's own kernels ------

F32 = numpy.float32
_clamp, _tiny, _half, _one = F32(TANH_CLAMP), F32(TANH_TINY), F32(0.5), F32(1.0)
_a1, _a3, _a5, _a7, _a9, _a11, _a13 = (F32(c) for c in TANH_NUMERATOR)
_b0, _b2, _b4, _b6 = (F32(c) for c in TANH_DENOMINATOR)
_exp_high, _exp_low, _log2_e = F32(EXP_HIGH), F32(EXP_LOW), F32(LOG2_E)
_ln2_high, _ln2_low = F32(LN2_HIGH), F32(LN2_LOW)
_p0, _p1, _p2, _p3, _p4, _p5 = (F32(c) for c in EXP_POLYNOMIAL)
_exponent_bias, _mantissa_bits = numpy.int32(127), numpy.int32(23)


@intrinsic
def fma(typingctx, a, b, c):
    """a b + c rounded once (LLVM's fma: one instruction on every x86-64 CPU DL runs on).
    DL's code has no fast-math (DL.engine.numba_linker), so LLVM fuses nothing itself: the
    polynomials below say where a fused multiply-add goes, the same wherever they are
    compiled, and are as fast as with fast-math."""
    if not (a == b == c and isinstance(a, types.Float)):
        return None

    def codegen(context, builder, signature, args):
        float_type = args[0].type
        function_type = ir.FunctionType(float_type, [float_type] * 3)
        return builder.call(builder.module.declare_intrinsic("llvm.fma", [float_type], function_type), args)
    return a(a, b, c), codegen


# DL's njit: IEEE arithmetic, no fast-math (DL.engine.numba_linker); error_model='numpy',
# because a division that Python semantics would check for zero cannot be vectorized.
@njit(error_model="numpy")
def tanh_float32(x):
    """Eigen's rational tanh (see the module's docstring)."""
    if abs(x) < _tiny:
        return x
    x = _clamp if x > _clamp else x  # (comparisons with NaN are false: NaN passes through)
    x = -_clamp if x < -_clamp else x
    x2 = x * x
    p = fma(fma(fma(fma(fma(fma(_a13, x2, _a11), x2, _a9), x2, _a7), x2, _a5), x2, _a3), x2, _a1) * x
    q = fma(fma(fma(_b6, x2, _b4), x2, _b2), x2, _b0)
    y = p / q
    y = _one if y > _one else y
    return -_one if y < -_one else y


@intrinsic
def _float32_from_bits(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@njit(error_model="numpy")
def exp_float32(x):
    """Cephes' expf (see EXP_POLYNOMIAL), in arithmetic Numba vectorizes."""
    x = _exp_high if x > _exp_high else x  # (NaN passes through both)
    x = _exp_low if x < _exp_low else x
    k = numpy.floor(fma(x, _log2_e, _half))  # exp(x) = 2^k exp(r), |r| <= ln(2) / 2
    r = fma(-k, _ln2_low, fma(-k, _ln2_high, x))
    exp_r = fma(fma(fma(fma(fma(fma(_p0, r, _p1), r, _p2), r, _p3), r, _p4), r, _p5), r * r, r) + _one
    # 2^k made from its bits in int32 (AVX2 converts and shifts 8 of those at once)
    return exp_r * _float32_from_bits((numpy.int32(k) + _exponent_bias) << _mantissa_bits)


def dl_tanh(x):
    """tanh in DL's Numba code: tanh_float32 for float32, the C library's otherwise."""
    return numpy.tanh(x)


@overload(dl_tanh)
def _dl_tanh_for(x):
    # The Composite's scalar graph may be typed float64 while Numba compiles it
    # for float32 arrays, so the choice is made on Numba's type, not PyTensor's.
    if x == types.float32:
        return lambda x: tanh_float32(x)
    return lambda x: numpy.tanh(x)


def dl_sigmoid(x):
    """1 / (1 + exp(-x)) in DL's Numba code: exp_float32 for float32 (the sigmoid is
    then within 1.5e-7 relative), the C library's exp otherwise."""
    return 1 / (1 + numpy.exp(-x))


@overload(dl_sigmoid)
def _dl_sigmoid_for(x):
    if x == types.float32:
        return lambda x: _one / (_one + exp_float32(-x))
    return lambda x: 1 / (1 + numpy.exp(-x))


@njit
def libm_tanh(x):
    """tanh from the C library, for every dtype (DL_FAST_TANH=0)."""
    return numpy.tanh(x)


@njit(error_model="numpy")
def libm_sigmoid(x):
    """1 / (1 + exp(-x)) with the C library's exp, for every dtype (DL_FAST_TANH=0)."""
    return 1 / (1 + numpy.exp(-x))


def fast_tanh_enabled():
    return not switched_off("DL_FAST_TANH")


def _key(*parts):
    """PyTensor's cache key of a graph holding one of DL's Ops: names this file's source, so
    that an edit to the Numba code here compiles it afresh (PyTensor keys on this only)."""
    return hashlib.sha256(repr(("DL.engine.numba_kernels", CACHE_VERSION, _source_digest()) + parts)
                          .encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def _source_digest():
    with open(__file__, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()


# --- DL's own Ops: PyTensor's, with DL's Numba code --------------------------------
# PyTensor's own Tanh and DimShuffle keep PyTensor's code, for every graph in the
# process.  DL's graphs get these subclasses instead, substituted by rewrites in the
# mode DL compiles with (DL.engine.mode): the same maths, C code and gradients, and
# Numba code registered for the subclasses only.

class FastTanh(Tanh):
    """tanh, computed in Numba by `dl_tanh` (Eigen's rational for float32)."""


class ContiguousDimShuffle(DimShuffle):
    """DimShuffle whose Numba code keeps contiguous layouts (ExpandDims as a reshape,
    matrix transposes as Numba's own `.T`): see the module's docstring, items 2 and 3."""

    @classmethod
    def get_path(cls, f):
        # DimShuffle's C code lives beside PyTensor's class, not beside this one
        return DimShuffle.get_path(f)


class OrderedSum(Sum):
    """The sum of every element of a float tensor, computed in Numba in SUM_LANES interleaved
    partial sums (element i into partial i mod SUM_LANES, in the accumulator's dtype), then
    the partials and the rest in order.  DL compiles without fast-math
    (DL.engine.numba_linker), so PyTensor's Sum adds one element at a time: a chain that
    took 0.5 ms for an MLP's L2 penalty (392,500 weights), most of its step.  The
    partial sums are independent, so LLVM vectorizes them without reordering anything:
    the order is fixed by this code, the same wherever it is compiled."""


fast_tanh = FastTanh(upgrade_to_float, name="fast_tanh")
SUM_LANES = 1024

_registered = False


def register():
    """Give PyTensor's Numba engine the code of DL's Ops (once; imports Numba)."""
    global _registered
    if _registered:
        return
    _registered = True
    _register_tanh()
    _register_dimshuffle()
    _register_ordered_sum()


def _register_tanh():
    from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key

    @register_funcify_and_cache_key(FastTanh)
    def _numba_fast_tanh(op, node, **kwargs):
        @njit
        def tanh(x):
            return dl_tanh(x)

        return tanh, _key("tanh")


def _register_dimshuffle():
    from numpy.lib.stride_tricks import as_strided
    import pytensor.link.numba.dispatch  # noqa: F401 (PyTensor's own code registered first)
    from pytensor.link.numba.dispatch import basic as numba_basic

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

    @numba_basic.register_funcify_and_cache_key(ContiguousDimShuffle)
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


@njit
def lane_sum(values, partial):
    """The sum of `values` (1-d, contiguous) in the order DL fixes for a vectorized sum:
    `partial` (scratch, of the accumulator's dtype) is set to zero and takes the rows of
    `values` one at a time, partial.size elements each (an elementwise loop, which LLVM
    vectorizes without reordering a sum); then the partials and the rest, in order.  The
    same order wherever it is compiled (OrderedSum, and the mask's gradient in the fused
    recurrences, whose loops over a row IEEE rules would not vectorize with a sum in them)."""
    lanes = partial.size
    rows = values.size // lanes
    partial[:] = 0
    for row in range(rows):
        partial += values[row * lanes:(row + 1) * lanes]
    total = partial[0]
    for lane in range(1, lanes):
        total += partial[lane]
    for i in range(rows * lanes, values.size):
        total += values[i]
    return total


@njit
def ordered_sum(flat, partial, result):
    """The sum of `flat` (1-d, contiguous) as OrderedSum computes it (`lane_sum`, with
    SUM_LANES partial sums of the accumulator's dtype in `partial`), as a 0-d array."""
    return numpy.asarray(result(lane_sum(flat, partial)))


def _register_ordered_sum():
    from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key

    @register_funcify_and_cache_key(OrderedSum)
    def _numba_ordered_sum(op, node, **kwargs):
        accumulate = numpy.dtype(op.acc_dtype).type
        result = numpy.dtype(node.outputs[0].dtype).type
        lanes = SUM_LANES

        @njit
        def sum_all(x):
            flat = numpy.ascontiguousarray(x).reshape(x.size)
            return ordered_sum(flat, numpy.empty(lanes, accumulate), result)

        return sum_all, _key("ordered_sum", SUM_LANES, op.acc_dtype, node.outputs[0].dtype)
