"""The JAX linker of DL's JAX mode: PyTensor's, with four differences.

1. **64-bit types for float64 graphs, whatever the import order.**  PyTensor
   sets JAX's global `jax_enable_x64` from `floatX` at the moment its JAX code
   is first imported: off when DL (float32) was imported first, on when a
   float64 script got there first.  With it off, a float64 graph (a gradient
   checked by finite differences) is computed in float32; with it on, some of
   PyTensor's JAX code returns float64 where a float32 graph says float32 (a
   float32 sum accumulated in float64), which a loop's carry then refuses.  DL's
   functions therefore run inside `jax.enable_x64(...)`, a context of the
   calling thread: on when floatX is float64 or every float entering and
   leaving the graph is float64, off otherwise (a float32 model's float64
   bookkeeping, such as Adam's step count or the finiteness guard's sum, is
   then computed in float32, as in PyTensor's own JAX mode with floatX float32,
   and int64 values in int32); their outputs are cast to the graph's types.
   The global setting, which other JAX code reads, is left as it was.

2. **A persistent compilation cache.**  The first time DL compiles a JAX
   function, it points JAX's persistent compilation cache at
   `<PyTensor's compile folder>/dl_jax` ($DL_JAX_CACHE_DIR to choose another
   folder), beside PyTensor's Numba cache and DL's graph cache, and caches
   every program (JAX's default keeps only those that took over a second):
   a later process compiling the same graph loads it.  This sets two of JAX's
   global options, `jax_compilation_cache_dir` and
   `jax_persistent_cache_min_compile_time_secs`, so other JAX code in the
   process caches its programs there too.  DL leaves both alone when the user
   has set a cache folder already (JAX_COMPILATION_CACHE_DIR, or
   `jax.config.update` before DL's first JAX compile); `DL_JAX_CACHE=0` turns
   DL's setting off.

3. **No copy of the shared values kept with the function.**  PyTensor's
   conversion of the graph makes a JAX copy of the value of every input that
   holds one (the shared variables: parameters, optimizer state, data), by a
   small compiled program each, and keeps it unused (the function takes those
   values as arguments); DL converts with the inputs' values held back, and puts
   array constants on the device without a compiled copy each.

4. **Programs kept on disk** (DL.engine.jax_programs): a function's first call
   loads its exported program, or exports it, so a warm start skips JAX's
   tracing and lowering.

5. **Updates in place.**  The value a function replaces (a shared variable's
   tensor that an update of the same type overwrites: parameters, optimizer
   state) is donated to the program (`jax.jit`'s `donate_argnums`), so XLA
   writes the new value into the old one's memory instead of new memory at
   every step: the MLP's adadelta step 17 % faster and without its spikes,
   LeNet's 13 % (benchmarks/RESULTS.md), and the optimizer's state held once,
   not twice.  A value someone else still holds (taken with
   `get_value(borrow=True)`, or set with `set_value(..., borrow=True)` from an
   array of yours) is copied first and the copy donated, so what you hold stays
   valid and keeps the old value; `get_value()` returns a copy, as before.
   Graphs with a loop (Scan, DL's recurrences) are not donated unless
   DL_JAX_DONATE=1: there it made some steps slower (`donated_inputs`);
   `DL_JAX_DONATE=0` turns it off everywhere (benchmarks/jax_donation.py
   measures both).
"""
import os
import sys
import warnings

import numpy

from pytensor import config
from pytensor.graph.basic import Constant
from pytensor.link.jax.linker import JAXLinker
from pytensor.tensor.random.type import RandomType
from pytensor.tensor.type import TensorType

from DL.engine import jax_programs, switched_off, switched_on

_cache_set_up = []


def cache_dir():
    """$DL_JAX_CACHE_DIR, else `dl_jax` in PyTensor's compile folder."""
    return os.environ.get("DL_JAX_CACHE_DIR") or os.path.join(str(config.base_compiledir), "dl_jax")


def set_up_cache():
    """Point JAX's persistent compilation cache at `cache_dir()` (once a process), unless
    the user chose a folder or DL_JAX_CACHE=0.  Returns the folder in use, or None."""
    import jax
    if not _cache_set_up:
        _cache_set_up.append(True)
        if jax.config.jax_compilation_cache_dir is None and not switched_off("DL_JAX_CACHE"):
            jax.config.update("jax_compilation_cache_dir", cache_dir())
            if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
                jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return jax.config.jax_compilation_cache_dir


def x64(on):
    """JAX's context that sets 64-bit types on or off for the calling thread (its name
    moved from jax.experimental to jax in later versions)."""
    import jax
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(on)
    from jax.experimental import enable_x64
    return enable_x64(on)


def needs_x64(fgraph):
    """True when floatX is float64 or every float entering or leaving `fgraph` is float64."""
    floats = [v.type.dtype for v in list(fgraph.inputs) + list(fgraph.outputs)
              if str(getattr(v.type, "dtype", "")).startswith("float")]
    return config.floatX == "float64" or (bool(floats) and all(dtype == "float64" for dtype in floats))


def as_type(output, dtype, wide):
    """`output` of the graph's `dtype`: cast by JAX, or, for a 64-bit type JAX cannot
    hold without x64 (`wide` false; a float32 model's float64 step count), as a NumPy array."""
    if dtype is None or output.dtype == dtype:
        return output
    if not wide and dtype in ("float64", "int64", "uint64", "complex128"):
        return numpy.asarray(output, dtype=dtype)
    return output.astype(dtype)


def donated_inputs(fgraph):
    """The positions of the inputs whose value a call replaces: a shared tensor that an
    update of the same dtype and rank overwrites (PyTensor's `update_mapping`: output
    position -> input position).  Their memory can hold the new value.

    None in a graph with a loop, unless DL_JAX_DONATE=1: there XLA's handling of the
    donated values made steps slower (the lstm-imdb LSTM's by a third, a USE's by 8 %,
    while a GRU's got 10 % faster; benchmarks/jax_donation.py)."""
    if switched_off("DL_JAX_DONATE") or (has_a_loop(fgraph) and not switched_on("DL_JAX_DONATE")):
        return ()
    positions = []
    for output, position in (getattr(fgraph, "update_mapping", None) or {}).items():
        old, new = fgraph.inputs[position].type, fgraph.outputs[output].type
        if isinstance(old, TensorType) and isinstance(new, TensorType) \
                and (old.dtype, old.ndim) == (new.dtype, new.ndim):
            positions.append(position)
    return tuple(sorted(positions))


def has_a_loop(fgraph):
    """True when a node of `fgraph` is a loop: an Op with an inner graph (Scan) or one of
    DL's recurrences."""
    from DL.engine.recurrence_op import KernelOp
    return any(hasattr(node.op, "fgraph") or isinstance(node.op, KernelOp) for node in fgraph.apply_nodes)


# The references to a value only DL and PyTensor hold when `_own` counts them: the
# function's input cell, the tuple PyTensor's thunk calls the function with, the
# function's `*args`, `_own`'s `value` and sys.getrefcount's argument.  One more is
# someone else's.  (tests/test_jax_donation.py checks both ways.)
_ONLY_OURS = 5


def _own(args, donated, cells):
    """`args`, with each donated argument that someone else may still hold (a reference
    beyond the function's input cell and the call; a NumPy array, which JAX could alias;
    the same array passed twice) replaced by a copy on the device: JAX deletes a donated
    array, and what the user holds must stay valid."""
    import jax
    copies = {}
    for position in donated:
        value = args[position]
        if not (isinstance(value, jax.Array) and cells[position][0] is value
                and sys.getrefcount(value) <= _ONLY_OURS):
            copies[position] = jax.device_put(value, may_alias=False)
    return [copies.get(i, arg) for i, arg in enumerate(args)] if copies else args


def _without_input_values(fgraph, storage_map):
    """(a copy of `storage_map` in which the graph's inputs hold no values, the inputs
    held back), for PyTensor's conversion of the graph.

    That conversion makes a JAX copy of the value each input holds (a shared
    variable's: parameters, optimizer state, the data), by a small compiled program each,
    and keeps it with the function though the function takes those values as arguments
    at every call ("this one-time conversion is wasteful", its code says): a second copy
    of every parameter per compiled function, and a program read from JAX's cache per
    array on a warm start.  (Random generators keep theirs: PyTensor's linker copies them.)"""
    held = {v for v in fgraph.inputs if v in storage_map and not isinstance(v.type, RandomType)}
    view = dict(storage_map)
    view.update((variable, [None]) for variable in held)
    return view, held


def _carry_over(view, held, storage_map):
    """What PyTensor's conversion changed in `view` (its copies of random generators
    replace the originals), made in `storage_map`; the inputs `held` back keep their storage."""
    for variable in [v for v in storage_map if v not in view]:
        del storage_map[variable]
    storage_map.update((variable, storage) for variable, storage in view.items() if variable not in held)


def _constants_on_device(fgraph, storage_map):
    """Each array constant of the graph as a JAX array, put on the device as it is, with
    the dtype PyTensor's `jnp.array` gives it (64-bit types 32-bit without x64): no
    compiled copy per constant, as PyTensor's conversion runs (a program read from
    JAX's cache each on a warm start).  Scalars stay Python numbers, as PyTensor has them."""
    import jax
    for variable in fgraph.variables:
        data = variable.data if isinstance(variable, Constant) else None
        if isinstance(data, numpy.ndarray) and data.ndim and data.dtype.kind in "biufc":  # (numbers)
            storage = storage_map.setdefault(variable, [data])
            if isinstance(storage[0], numpy.ndarray):
                storage[0] = jax.device_put(numpy.array(storage[0]))  # (a copy: JAX may alias host memory)


class DLJAXLinker(JAXLinker):
    """PyTensor's JAX linker, whose functions run with the 64-bit setting their graph
    needs, return the graph's types (the caller's outputs as NumPy arrays, as the other
    engines do), and whose compiled programs go to the persistent cache (see the
    module's docstring)."""

    def fgraph_convert(self, fgraph, input_storage, storage_map, **kwargs):
        with x64(needs_x64(fgraph)), warnings.catch_warnings():
            _constants_on_device(fgraph, storage_map)
            # PyTensor's linker works on a copy of each random generator, and says so at every
            # compile; DL.md says it once (a checkpoint on JAX holds no generator state)
            warnings.filterwarnings("ignore", message="The RandomType SharedVariables")
            view, held = _without_input_values(fgraph, storage_map)
            converted = super().fgraph_convert(fgraph, input_storage, view, **kwargs)
            _carry_over(view, held, storage_map)
            return converted

    def create_thunk_inputs(self, storage_map):
        with x64(needs_x64(self.fgraph)):
            self.dl_input_cells = super().create_thunk_inputs(storage_map)  # (the values' cells, by position)
            return self.dl_input_cells

    def jit_compile(self, fn):
        import jax
        set_up_cache()
        # PyTensor's jit of a function with static arguments converts them first: no donation there
        donated = () if self.scalar_shape_inputs else donated_inputs(self.fgraph)
        compiled = jax.jit(fn, donate_argnums=donated) if donated else super().jit_compile(fn)
        cells = self.dl_input_cells
        wide = needs_x64(self.fgraph)
        dtypes = [getattr(v.type, "dtype", None) for v in self.fgraph.outputs]
        # what the caller gets back as NumPy arrays, as from the other engines (a script's
        # `p.astype("float64")`); what updates shared variables stays where JAX keeps it
        returned = [dtype is not None and i not in (getattr(self.fgraph, "update_mapping", None) or {})
                    for i, dtype in enumerate(dtypes)]

        # the graph's key in DL's graph cache names its stored program (DL.engine.jax_programs);
        # PyTensor's jit of a function with static arguments is not a jax.jit to export
        graph_key = getattr(self.fgraph, "dl_graph_key", None)
        if graph_key is not None and (self.scalar_shape_inputs or not jax_programs.known_code(self.fgraph)):
            graph_key = None
        calls = []  # what runs after the first call: the stored or exported program

        def with_graph_types(*args):
            with x64(wide):
                if donated:
                    args = _own(args, donated, cells)
                if calls:
                    outputs = calls[0](*args)
                else:  # the first call traces, where JAX says that 64-bit types become 32-bit without x64
                    with warnings.catch_warnings():
                        warnings.filterwarnings("ignore", message="Explicitly requested dtype")
                        outputs, program, with_graph_types.dl_jax_program = jax_programs.first_call(
                            compiled, graph_key, args, wide, donated)
                    calls.append(program)
                outputs = [as_type(output, dtype, wide) for output, dtype in zip(outputs, dtypes)]
            return [numpy.array(output) if to_host else output for output, to_host in zip(outputs, returned)]  # (writable)

        with_graph_types.dl_jax_program = None  # then 'loaded', 'exported' or 'traced' (DL.engine.jax_programs)
        return with_graph_types
