"""The mode DL compiles its functions with: the user's mode, plus DL's rewrites.

DL's faster Numba code (`DL.engine.numba_kernels`) belongs to Op classes of
DL's own, subclasses of PyTensor's `Tanh`, `DimShuffle` and `Sum`.  `dl_mode(mode)`
returns a copy of `mode` whose rewrites swap PyTensor's Ops for DL's in the graph
being compiled:

    position 48.5  Elemwise(tanh)   -> Elemwise(fast_tanh)         before elemwise fusion (49),
                                                                    so fused loops hold it
    position 99    DimShuffle(...)  -> ContiguousDimShuffle(...)    after every other rewrite
    position 99    Sum(every axis)  -> OrderedSum(...)              of a float tensor
    position 99    Scan             -> a copy whose inner graph is compiled in this mode too
                                       (PyTensor compiles a loop's body in the Scan's own mode)

and PyTensor's `scan_push_out_add` is replaced by a copy that visits a loop
body's nodes in graph order, not in the order of a set of object ids
(DL.engine.scan_rewrites): the same graph then compiles to the same Numba
cache key in every process.  The graph compiles in DL's Numba linker
(DL.engine.numba_linker): PyTensor's, without fast-math, so that a script's
first, cold run computes the same bits as its later runs.

On JAX, two rewrites.  PyTensor's JAX engine has no binomial sampler (it asks
for NumPyro), and dropout masks are binomial draws with n = 1, so

    position 48.4  binomial(rng, size, 1, p)  -> uniform(rng, size, 0, 1) < p

a Bernoulli(p) draw from the same generator (which JAX draws its own numbers
from anyway: a seed's masks differ between the engines, as its uniform draws
do).  The Numba and C engines keep the binomial draw, so their masks for a seed
are what they were.  And, as on Numba, PyTensor's `scan_push_out_add` gives
way to DL's in-order copy, so that a loop compiles to the same program, with
the same key in JAX's persistent cache, in every process.  DL's JAX functions
run in DL's subclass of PyTensor's JAX linker (`DL.engine.jax_linker`): the
64-bit setting their graph needs, whatever PyTensor set when its JAX code was
first imported, and JAX's compiled programs kept on disk.

Nothing else changes: PyTensor's classes, its dispatch and its predefined modes
are left as they are, so a graph compiled by other code in the process (PyMC, a
user's own `pytensor.function`) runs PyTensor's code, bit for bit.  The swap is
made for Numba and JAX modes only; other modes pass through.
`DL.backend.function` compiles with `dl_mode`, and so does `optimize`.
"""
import numpy
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph.basic import Constant
from pytensor.graph.rewriting.basic import dfs_rewriter, in2out, node_rewriter
from pytensor.link.jax.linker import JAXLinker
from pytensor.link.numba.linker import NumbaLinker
from pytensor.scalar.basic import Tanh
from pytensor.scan.op import Scan
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.math import Sum

from DL.engine.numba_linker import DLNumbaLinker

BERNOULLI_POSITION = 48.4  # before elemwise fusion (49): the comparison fuses with the mask's use
TANH_POSITION = 48.5       # after add_mul_fusion (48), before elemwise fusion (49)
DIMSHUFFLE_POSITION = 99   # before the last merge (100)

_modes = {}  # predefined mode name -> its DL version


@node_rewriter([Elemwise])
def use_fast_tanh(fgraph, node):
    """Elemwise(tanh) -> Elemwise(DL's fast_tanh): same values in C, DL's code in Numba."""
    if type(node.op.scalar_op) is not Tanh:
        return None
    from DL.engine.numba_kernels import fast_tanh
    return [Elemwise(fast_tanh)(*node.inputs)]


@node_rewriter([DimShuffle])
def use_contiguous_dimshuffle(fgraph, node):
    """DimShuffle -> DL's ContiguousDimShuffle (keeps C/F layouts in Numba)."""
    if type(node.op) is not DimShuffle:
        return None
    from DL.engine.numba_kernels import ContiguousDimShuffle
    op = ContiguousDimShuffle(input_ndim=node.op.input_ndim, new_order=node.op.new_order)
    return [op(node.inputs[0])]


@node_rewriter([Sum])
def use_ordered_sum(fgraph, node):
    """Sum over every axis of a float tensor -> DL's OrderedSum (vectorized in a fixed order)."""
    x = node.inputs[0]
    if type(node.op) is not Sum or x.ndim == 0 or not x.dtype.startswith("float"):
        return None
    if node.op.axis is not None and sorted(node.op.axis) != list(range(x.ndim)):
        return None
    from DL.engine.numba_kernels import OrderedSum
    return [OrderedSum(axis=None, dtype=node.op.dtype, acc_dtype=node.op.acc_dtype)(x)]


def _bernoulli_by_uniform():
    from pytensor.tensor import basic as tensor
    from pytensor.tensor.math import lt
    from pytensor.tensor.random.basic import BinomialRV, uniform

    @node_rewriter([BinomialRV])
    def bernoulli_by_uniform(fgraph, node):
        """binomial(1, p) -> uniform(0, 1) < p, drawn from the same generator (JAX only)."""
        rng, size, n, p = node.inputs
        if not (isinstance(n, Constant) and numpy.all(n.data == 1)):
            return None  # (only Bernoulli draws: dropout's)
        low, high = (tensor.zeros_like(p, dtype="float64"), tensor.ones_like(p, dtype="float64"))
        next_rng, draws = uniform.make_node(rng, size, low, high).outputs
        return [next_rng, tensor.cast(lt(draws, p), node.outputs[1].dtype)]

    return in2out(bernoulli_by_uniform, name="dl_bernoulli_by_uniform")


class _LoopBodiesIn(object):
    """Scan -> a copy (inner graph cloned) whose body compiles in `self.mode`, the DL mode
    this rewrite belongs to (set once that mode exists)."""

    def __init__(self):
        self.mode = None

    def rewriter(self):
        @node_rewriter([Scan])
        def compile_loop_bodies_in_dl_mode(fgraph, node):
            if node.op.mode is self.mode:
                return None
            op = node.op.clone()  # (the user's graph keeps its own Scan and inner graph)
            op.mode = self.mode
            return op.make_node(*node.inputs).outputs

        return in2out(compile_loop_bodies_in_dl_mode, name="dl_scan_mode")


class _DLMode(Mode):
    """A DL mode: PyTensor's Mode, whose functions keep their rewritten graphs on disk
    (DL.engine.graph_cache) so that a later process compiling the same graph skips the
    rewrites."""

    @property
    def function_maker(self):
        from DL.engine.graph_cache import CachingFunctionMaker
        return CachingFunctionMaker


def _with_in_order_scans(base, *rewrites):
    """`base` with `rewrites` (rewriter, position) registered, and PyTensor's
    scan_push_out_add replaced by DL's in-order copy: the same graph then compiles to
    the same program, and the same cache key (Numba's, JAX's), in every process."""
    from DL.engine import scan_rewrites
    in_order = (dfs_rewriter(scan_rewrites.scan_push_out_add_in_order, ignore_newtrees=False),
                scan_rewrites.POSITION)
    return base.excluding(scan_rewrites.REPLACES).register(in_order, *rewrites)


def _with_dl_rewrites(base):
    from DL.engine import numba_kernels
    numba_kernels.register()
    loop_bodies = _LoopBodiesIn()
    rewrites = [(in2out(use_contiguous_dimshuffle, name="dl_contiguous_dimshuffle"), DIMSHUFFLE_POSITION),
                (in2out(use_ordered_sum, name="dl_ordered_sum"), DIMSHUFFLE_POSITION),
                (loop_bodies.rewriter(), DIMSHUFFLE_POSITION)]
    if numba_kernels.fast_tanh_enabled():
        rewrites.append((in2out(use_fast_tanh, name="dl_fast_tanh"), TANH_POSITION))
    registered = _with_in_order_scans(base, *rewrites)
    linker = DLNumbaLinker() if type(registered.linker) is NumbaLinker else registered.linker
    loop_bodies.mode = _DLMode(linker=linker, optimizer=registered.provided_optimizer)
    return loop_bodies.mode


def _with_jax_rewrites(base):
    from DL.engine.jax_linker import DLJAXLinker
    registered = _with_in_order_scans(base, (_bernoulli_by_uniform(), BERNOULLI_POSITION))
    return _DLMode(linker=DLJAXLinker(), optimizer=registered.provided_optimizer)


def dl_mode(mode=None):
    """`mode` (a name, a Mode or None for the configured default) with DL's rewrites
    when it compiles with Numba or JAX; any other mode is returned as it is."""
    base = get_mode(mode)
    if not isinstance(base, Mode) or not isinstance(base.linker, (NumbaLinker, JAXLinker)):
        return mode
    with_rewrites = _with_jax_rewrites if isinstance(base.linker, JAXLinker) else _with_dl_rewrites
    if isinstance(mode, Mode):  # the user's own Mode object: a fresh copy, not cached
        return with_rewrites(base)
    key = (mode, "jax" if with_rewrites is _with_jax_rewrites else _fast_tanh_setting())
    if key not in _modes:
        _modes[key] = with_rewrites(base)
        _modes[key].dl_description = repr(key)  # its name in DL.engine.graph_cache's keys
    return _modes[key]


def engine_of(mode):
    """'numba' or 'jax': the engine whose code DL's Ops need in `mode`; None for others."""
    linker = getattr(get_mode(mode), "linker", None)
    if isinstance(linker, JAXLinker):
        return "jax"
    return "numba" if isinstance(linker, NumbaLinker) else None


def _fast_tanh_setting():
    from DL.engine.numba_kernels import fast_tanh_enabled
    return fast_tanh_enabled()
