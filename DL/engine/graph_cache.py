"""Rewritten graphs kept on disk, so a process compiles a known graph without rewriting it again.

Warm (machine code in Numba's cache), most of the time `function` takes goes to
PyTensor's graph rewrites, pure Python run again in every process: about half of
a recurrent test module's time, and a second or two of a recurrent model's start
(`python benchmarks/startup.py --graph-cache on off`); on JAX, about a second of
an LSTM's warm start.  DL's Numba and JAX modes both use it.  This module keeps the
rewritten graph of each function DL compiles, under a key of the graph as
it was before rewriting, and a later process that builds the same graph loads
it instead of rewriting:

    graph built by the user's code --key--> hit:  the stored rewritten graph, its inputs
                                                  bound to this function's inputs
                                            miss: PyTensor's rewrites, then stored

The key is a description of the graph as PyTensor compares graphs: each node's Op
by its type and properties (`__props__`, the same properties PyTensor's own
equality and its merge rewrite go by; a loop by its inner graph and settings),
where each input comes from, each variable's type, each constant's bytes; plus
the function's input and output settings, the mode, PyTensor's configuration and
the versions of everything that rewrites.  A graph holding an Op that has no
properties to go by (and is not a loop) is not stored: it is rewritten every
time, as before.  So two graphs share a key only when PyTensor would call them
equal.  (Rewrites that code registers with PyTensor itself are not in the key:
set DL_GRAPH_CACHE=0 while writing one.)

A hit binds the stored graph's inputs to this function's own: the stored file
holds no parameter values, and the function trains the model it was built for.
On a miss the graph is stored and the stored copy compiled, so a hit and a miss
run the very same graph: the same Numba cache key, the same bits.

Entries are written whole or not at all, and durably, by DL's one file writer
(`DL.durable`: a temporary file, fsynced, renamed into place, the folder fsynced),
and an entry that cannot be read or does not fit is ignored and rewritten.
`DL_GRAPH_CACHE=0` turns the cache off.
"""
import functools
import hashlib
import importlib.metadata
import io
import os
import pickle
import sys
import types

import numpy
import pytensor
from pytensor import config
from pytensor.compile.maker import FunctionMaker
from pytensor.compile.mode import Mode
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.destroyhandler import DestroyHandler
from pytensor.graph.op import Op
from pytensor.graph.traversal import applys_between, io_toposort
from pytensor.graph.type import Type
from pytensor.scalar.basic import ScalarOp
from pytensor.scan.op import Scan

from DL.durable import write_atomically
from DL.engine import switched_off

CACHE_VERSION = 1


class Uncacheable(Exception):
    """The graph holds something the key cannot describe: compile it as usual."""


def enabled():
    return not switched_off("DL_GRAPH_CACHE")


def cache_dir():
    """$DL_GRAPH_CACHE_DIR, else `dl_graphs` in PyTensor's compile folder (beside its Numba cache)."""
    path = os.environ.get("DL_GRAPH_CACHE_DIR") or os.path.join(str(config.base_compiledir), "dl_graphs")
    os.makedirs(path, exist_ok=True)
    return path


# --- the key ----------------------------------------------------------------------

def describe_value(value):
    """A stable, complete description of an Op property or a type's field."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return (type(value).__name__, repr(value))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(describe_value(item) for item in value))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(describe_value(item)) for item in value)))
    if isinstance(value, dict) or type(value).__name__ == "frozendict":
        return ("dict", tuple(sorted((repr(describe_value(k)), describe_value(v)) for k, v in value.items())))
    if isinstance(value, slice):
        return ("slice", describe_value(value.start), describe_value(value.stop), describe_value(value.step))
    if isinstance(value, numpy.dtype):
        return ("dtype", value.str)
    if isinstance(value, numpy.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    if isinstance(value, numpy.ndarray) and value.dtype.hasobject:  # (its bytes would be addresses)
        return ("objects", value.shape, tuple(describe_value(item) for item in value.ravel().tolist()))
    if isinstance(value, numpy.ndarray):
        return ("array", value.dtype.str, value.shape, hashlib.sha256(numpy.ascontiguousarray(value).tobytes()).hexdigest())
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)):
        name = getattr(value, "__qualname__", "")
        if "<locals>" in name or "<lambda>" in name:
            raise Uncacheable("a local function %r" % value)
        return ("global", value.__module__, name)
    if isinstance(value, Op):
        return describe_op(value)
    if isinstance(value, Type):
        return describe_type(value)
    if isinstance(value, Variable):
        raise Uncacheable("a variable inside an Op")
    if hasattr(value, "__dataclass_fields__"):
        return (qualified_name(type(value)),
                tuple((name, describe_value(getattr(value, name))) for name in value.__dataclass_fields__))
    if "<locals>" not in type(value).__qualname__ and hasattr(value, "__dict__"):
        # a helper object (e.g. a scalar Op's output-type rule): its class and every attribute
        return ("object", qualified_name(type(value)),
                tuple((name, describe_value(item)) for name, item in sorted(vars(value).items())))
    raise Uncacheable("no description for %s" % type(value).__name__)


def qualified_name(cls):
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def describe_type(type_):
    props = getattr(type_, "__props__", None)
    if props is None:  # (e.g. a random generator's type): its class and every attribute
        return ("type", qualified_name(type(type_)),
                tuple((name, describe_value(item)) for name, item in sorted(vars(type_).items())))
    return (qualified_name(type(type_)),) + tuple((name, describe_value(getattr(type_, name))) for name in props)


def describe_op(op):
    if isinstance(op, Scan):
        # Scan's own equality: its info, settings and inner graph (plus the mode its body compiles in)
        return (qualified_name(type(op)), describe_value(op.info), describe_value(op.profile),
                describe_value(op.truncate_gradient), describe_value(op.name), describe_value(op.allow_gc),
                describe_value(op.destroy_map), describe_mode(op.mode), describe_graph(op.inner_inputs, op.inner_outputs))
    props = getattr(type(op), "__props__", None)
    if props is None:
        if isinstance(op, ScalarOp):  # compared by type and settings: describe every attribute
            return (qualified_name(type(op)),) + tuple((name, describe_value(value))
                                                       for name, value in sorted(vars(op).items()))
        raise Uncacheable("an Op without __props__: %s" % type(op).__name__)
    return (qualified_name(type(op)),) + tuple((name, describe_value(getattr(op, name))) for name in props)


def describe_mode(mode):
    """A mode by its name: a predefined one's, or the one DL gave its version of it."""
    if mode is None or isinstance(mode, str):
        return ("mode", repr(mode))
    name = getattr(mode, "dl_description", None)
    if name is None:
        raise Uncacheable("a mode without a name: %r" % (mode,))
    return ("DL mode", name)


def describe_graph(inputs, outputs):
    """Each node in a fixed order with where each of its inputs comes from."""
    where = {}
    description = []
    for i, variable in enumerate(inputs):
        where[variable] = ("in", i)
        description.append(("input", describe_type(variable.type)))

    def source(variable):
        if variable in where:
            return where[variable]
        if isinstance(variable, Constant):
            where[variable] = ("const", len(description))
            description.append(("constant", describe_type(variable.type), describe_value(variable.data)))
            return where[variable]
        raise Uncacheable("a root variable that is not an input: %s" % variable)

    for n, node in enumerate(io_toposort(inputs, outputs)):
        description.append(("node", describe_op(node.op), tuple(source(v) for v in node.inputs),
                            tuple(describe_type(v.type) for v in node.outputs)))
        for j, output in enumerate(node.outputs):
            where[output] = ("out", n, j)
    description.append(("outputs", tuple(source(v) for v in outputs)))
    return tuple(description)


def environment():
    """What else decides how a graph is rewritten: the versions, DL's engine code and
    PyTensor's configuration, but for its BLAS flags, which DL's modes (Numba) do not
    use: reading them makes PyTensor look for a BLAS to link C code with, and warn,
    alarmingly, in every process that finds none.  (Not the rewrites registered with PyTensor: PyTensor
    registers some of its own lazily, on first use, so the names would differ between
    the first function of a process and the next.  Who writes rewrites of their own
    sets DL_GRAPH_CACHE=0 while working on them.)"""
    flags = tuple(sorted((name, str(getattr(config, name))) for name in config._config_var_dict
                         if not name.startswith("blas__")))
    return (CACHE_VERSION, sys.version, pytensor.__version__, _numba_version(), numpy.__version__,
            _engine_source_hash(), os.environ.get("DL_FAST_TANH", ""), flags)


@functools.lru_cache(maxsize=None)
def _numba_version():
    """Numba's version, without importing Numba (0.2 s of a JAX run's start, which needs none)."""
    try:
        return importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        return None


_source_hash = None


def _engine_source_hash():
    """DL's own rewrites and Ops are code in DL.engine: a change there is a new key."""
    global _source_hash
    if _source_hash is None:
        folder = os.path.dirname(os.path.abspath(__file__))
        digest = hashlib.sha256()
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as file:
                    digest.update(name.encode() + b"\0" + file.read())
        _source_hash = digest.hexdigest()
    return _source_hash


def key_of(fgraph, input_specs, output_specs, mode):
    """The key of `fgraph` (before rewriting) as a function with these specs, in `mode`."""
    specs = (tuple((spec.mutable, spec.borrow, spec.implicit) for spec in input_specs),
             tuple(spec.borrow for spec in output_specs),
             tuple(sorted((fgraph.update_mapping or {}).items())))
    description = (environment(), describe_mode(mode), specs, describe_graph(fgraph.inputs, fgraph.outputs))
    return hashlib.sha256(repr(description).encode()).hexdigest()


# --- storing and loading the rewritten graph ------------------------------------------

class _Pickler(pickle.Pickler):
    """The graph's inputs (shared variables hold the user's values) and modes are
    stored as references, bound again when the graph is loaded."""

    def __init__(self, file, inputs, mode):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.input_index = {id(variable): i for i, variable in enumerate(inputs)}
        self.mode = mode

    def persistent_id(self, obj):
        if id(obj) in self.input_index:
            return ("input", self.input_index[id(obj)])
        if type(obj) is numpy.ndarray and obj.size == 0:
            # made afresh on loading: an unpickled empty array gets other strides than a
            # new one, and PyTensor's Numba cache key of a constant reads its strides
            return ("empty", obj.shape, obj.dtype.str)
        if isinstance(obj, Mode):
            if obj is not self.mode:
                raise Uncacheable("a mode other than the function's")
            return ("mode",)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, inputs, mode):
        super().__init__(file)
        self.inputs, self.mode = inputs, mode

    def persistent_load(self, pid):
        if pid[0] == "input":
            return self.inputs[pid[1]]
        if pid[0] == "mode":
            return self.mode
        if pid[0] == "empty":
            return numpy.empty(pid[1], dtype=pid[2])
        raise pickle.UnpicklingError("unknown reference %r" % (pid,))


def dumps(fgraph, mode):
    """The rewritten `fgraph`'s outputs as bytes, its inputs and mode by reference."""
    buffer = io.BytesIO()
    _Pickler(buffer, fgraph.inputs, mode).dump((len(fgraph.inputs), list(fgraph.outputs)))
    return buffer.getvalue()


def loads(data, fgraph, mode):
    """The outputs `dumps` wrote, on `fgraph`'s inputs; None if they do not fit."""
    n_inputs, outputs = _Unpickler(io.BytesIO(data), fgraph.inputs, mode).load()
    if n_inputs != len(fgraph.inputs) or len(outputs) != len(fgraph.outputs):
        return None
    return outputs


def store(key, data):
    """Write `data` under `key`, whole or not at all (DL's one file writer)."""
    write_atomically(os.path.join(cache_dir(), key + ".pkl"), data)


def load(key):
    """The bytes stored under `key`; None if there are none."""
    try:
        with open(os.path.join(cache_dir(), key + ".pkl"), "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None


def install(fgraph, outputs):
    """Make the stored rewritten `outputs` `fgraph`'s outputs (the graph built by the
    user's code is dropped).  False, and `fgraph` unchanged, if they do not fit."""
    if any(not old.type.is_super(new.type) for old, new in zip(fgraph.outputs, outputs)):
        return False
    if any(node.op.destroy_map for node in applys_between(fgraph.inputs, outputs)) \
            and not hasattr(fgraph, "destroyers"):
        fgraph.attach_feature(DestroyHandler())
    for i, output in enumerate(outputs):
        node, index = fgraph.get_output_client(i)
        fgraph.change_node_input(node, index, output, reason="dl_graph_cache", import_missing=False)
    return True


class CachingFunctionMaker(FunctionMaker):
    """PyTensor's FunctionMaker, whose rewriting step goes through the cache (the
    `function_maker` of DL's mode, DL.engine.mode).

    `self.dl_graph_cache` says what happened: 'hit', 'miss' (rewritten and stored),
    'uncacheable: <why>' or 'off'.  On a miss the stored copy replaces the rewritten
    graph too, so that a hit and a miss compile the very same graph (the same Numba
    cache key, the same machine code)."""

    def prepare_fgraph(self, inputs, outputs, additional_outputs, fgraph, mode, profile):
        if not enabled():
            self.dl_graph_cache = "off"
            return FunctionMaker.prepare_fgraph(inputs, outputs, additional_outputs, fgraph, mode, profile)
        try:
            key = key_of(fgraph, inputs, outputs + additional_outputs, mode)
        except Uncacheable as reason:
            self.dl_graph_cache = "uncacheable: %s" % reason
            return FunctionMaker.prepare_fgraph(inputs, outputs, additional_outputs, fgraph, mode, profile)
        data = load(key)
        if data is not None and self._install(data, fgraph, mode):
            self.dl_graph_cache = "hit"
            fgraph.dl_graph_key = key  # (the JAX mode's stored programs go by it: DL.engine.jax_programs)
            return
        FunctionMaker.prepare_fgraph(inputs, outputs, additional_outputs, fgraph, mode, profile)
        self.dl_graph_cache = "miss"
        try:
            data = dumps(fgraph, mode)
        except Exception as error:  # something in the rewritten graph does not pickle
            self.dl_graph_cache = "uncacheable: %s" % error
            return
        if self._install(data, fgraph, mode):
            store(key, data)
            fgraph.dl_graph_key = key

    @staticmethod
    def _install(data, fgraph, mode):
        try:
            outputs = loads(data, fgraph, mode)
        except Exception:  # written by another version, or damaged: rewrite instead
            return False
        return outputs is not None and install(fgraph, outputs)
