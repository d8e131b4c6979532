"""Symbolic variables that are true in `if`, as Theano 1.0's were (PyTensor only).

Theano code makes a layer's input when it is given none::

    if not input:
        input = T.matrix('input')

Theano's variables were truthy (only comparison results refused `bool`);
PyTensor's `TensorVariable.__bool__` always raises.  The view's constructors
(`T.matrix`, `T.tensor3`, `T.TensorType(...)()`, `theano.shared`, ...) make
variables of the subclasses below, whose `bool` is True.  PyTensor's classes
are not changed: a variable made by `pytensor.tensor.matrix()` still raises.

What survives: cloning (compiling a function clones its inputs) keeps the
class, and so does pickling (the classes live at module level).  A result of
an operation (`x + 1`, `x > 0`) is made by the operation, so it is PyTensor's
own variable, and a comparison refuses `bool` as it did in Theano.  The types
of these variables are PyTensor's own (`T.TensorType` excepted, below), so
Ops, rewrites and the Numba and JAX dispatch, which look at Ops and types,
see nothing new.
"""
import functools

from pytensor.tensor.sharedvar import TensorSharedVariable
from pytensor.tensor.type import TensorType as _TensorType
from pytensor.tensor.variable import TensorVariable


class TruthyTensorVariable(TensorVariable):
    """A TensorVariable whose `bool` is True, as Theano's were."""

    def __bool__(self):
        return True


class TruthyTensorSharedVariable(TensorSharedVariable):
    """A shared tensor whose `bool` is True, as Theano's were."""

    def __bool__(self):
        return True


class _AnyTensorType(type(_TensorType)):
    """`isinstance(x.type, T.TensorType)` holds for PyTensor's own tensor types too."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, _TensorType)


class TensorType(_TensorType, metaclass=_AnyTensorType):
    """`T.TensorType(dtype, broadcastable)`: PyTensor's TensorType whose variables
    are truthy.  It equals (and hashes as) PyTensor's type of the same dtype and
    shape, so graphs mix the two freely (updates, scan states, function inputs).

    A variable it makes has PyTensor's own type of that dtype and shape: some of
    PyTensor's functions accept only that exact class (`T.dot` asks for a "dense"
    type, which a subclass is not)."""

    variable_type = TruthyTensorVariable

    def __call__(self, name=None):
        return TruthyTensorVariable(_TensorType(self.dtype, shape=self.shape), None, None, name=name)

    def __eq__(self, other):
        if not isinstance(other, _TensorType):
            return NotImplemented
        return other.dtype == self.dtype and other.shape == self.shape

    def __hash__(self):
        return hash((_TensorType, self.dtype, self.shape))


def truthy(variable):
    """`variable` (an input made by PyTensor) as a truthy variable of the same type and name."""
    if type(variable) is TensorVariable and variable.owner is None:
        made = TruthyTensorVariable(variable.type, None, None, name=variable.name)
        made.tag = variable.tag
        return made
    if type(variable) is TensorSharedVariable:
        made = TruthyTensorSharedVariable(type=variable.type, value=None, strict=None,
                                          container=variable.container, name=variable.name)
        made.tag = variable.tag
        return made
    return variable


def truthy_constructor(constructor):
    """`constructor` (`pytensor.tensor.matrix`, `pytensor.shared`, ...) making truthy variables;
    a constructor of several (`T.matrices('a', 'b')`) gives a list of them."""

    @functools.wraps(constructor)
    def construct(*args, **kwargs):
        made = constructor(*args, **kwargs)
        if isinstance(made, list):
            return [truthy(variable) for variable in made]
        return truthy(made)
    return construct
