"""`theano.tensor` on PyTensor: Theano 1.0's names that PyTensor dropped, renamed
or made to take other arguments.  Every other name of `T` is PyTensor's own.

- The variable constructors (`T.matrix`, `T.ftensor3`, `T.tensor`, `T.scalars`, ...)
  take Theano's arguments (`T.matrix(name, dtype)`, `T.tensor(dtype,
  broadcastable, name)`) as well as PyTensor's keywords (`shape=`), and make
  variables that are true in `if`, as Theano's were (DL.engine.theano_view.truthy);
  so do `T.TensorType(dtype, broadcastable)()` and `theano.shared(value)`.
- `inv`, `abs_`, `addbroadcast`, `patternbroadcast`, `unbroadcast`, `Rop`, `Lop`,
  `TensorSharedVariable`: Theano's names for what PyTensor calls otherwise.
"""
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import Lop, Rop  # noqa: F401  (theano.tensor.Rop / Lop)
from pytensor.tensor.sharedvar import TensorSharedVariable  # noqa: F401

from DL.engine.theano_view.truthy import TensorType, truthy, truthy_constructor

_KINDS = ["scalar", "vector", "row", "col", "matrix", "tensor3", "tensor4", "tensor5", "tensor6", "tensor7"]
_PLURALS = ["scalars", "vectors", "rows", "cols", "matrices",
            "tensor3s", "tensor4s", "tensor5s", "tensor6s", "tensor7s"]
_DTYPE_PREFIXES = ["b", "w", "i", "l", "f", "d", "c", "z"]


def _with_dtype_second(made_by):
    """`made_by` (PyTensor's, dtype keyword-only) taking Theano's `(name=None, dtype=None)`."""
    def construct(name=None, dtype=None, **kwargs):
        return truthy(made_by(name, dtype=dtype, **kwargs))
    construct.__name__ = made_by.__name__
    construct.__doc__ = made_by.__doc__
    return construct


def tensor(*args, **kwargs):
    """Theano's `T.tensor(dtype, broadcastable, name=None)`, or PyTensor's
    `T.tensor(name=None, dtype=..., shape=...)`: a truthy variable."""
    if len(args) >= 2 or "broadcastable" in kwargs:
        name = kwargs.pop("name", None)
        return TensorType(*args, **kwargs)(name)
    return truthy(pt.tensor(*args, **kwargs))


def _constructors():
    """The view's constructor for each of PyTensor's constructors Theano had."""
    made = {}
    for kind in _KINDS:
        made[kind] = _with_dtype_second(getattr(pt, kind))
    for prefix in [""] + _DTYPE_PREFIXES:
        for name in ([prefix + kind for kind in _KINDS] if prefix else []) + [prefix + p for p in _PLURALS]:
            if hasattr(pt, name):
                made[name] = truthy_constructor(getattr(pt, name))
    return made


_CONSTRUCTORS = _constructors()
globals().update(_CONSTRUCTORS)
shared = truthy_constructor(pytensor.shared)  # theano.shared


def inv(x):
    """1 / x, elementwise (PyTensor's reciprocal)."""
    return pt.reciprocal(x)


abs_ = pt.abs


def addbroadcast(x, *axes):
    """x with `axes` declared of length 1 (checked when the function runs)."""
    return pt.specify_broadcastable(x, *axes)


def unbroadcast(x, *axes):
    """x with `axes` no longer declared broadcastable; PyTensor cannot forget a length
    of 1 it knows, so only axes whose length it does not know are accepted."""
    known = [axis for axis in axes if x.type.shape[axis] == 1]
    if known:
        raise ValueError("unbroadcast: PyTensor knows axes %s of %s have length 1 and cannot forget it; "
                         "build the variable with shape None on those axes instead" % (known, x))
    return x


def patternbroadcast(x, broadcastable):
    """x with the broadcastable pattern `broadcastable` (a bool per axis)."""
    if len(broadcastable) != x.ndim:
        raise ValueError("patternbroadcast: %d flags for a %d-d variable" % (len(broadcastable), x.ndim))
    x = unbroadcast(x, *[axis for axis, flag in enumerate(broadcastable) if not flag])
    return addbroadcast(x, *[axis for axis, flag in enumerate(broadcastable) if flag])


__all__ = (["tensor", "shared", "TensorType", "inv", "abs_", "addbroadcast", "unbroadcast",
            "patternbroadcast", "Rop", "Lop", "TensorSharedVariable"] + sorted(_CONSTRUCTORS))
