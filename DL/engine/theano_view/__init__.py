"""DL's engine view: Theano 1.0's module tree, over PyTensor or legacy Theano.

`from DL.backend import theano, T` gives the root of this tree and its
`tensor` node (`theano.tensor is T`).  Each node is a module object that finds
a name, on first access, in this order:

1. DL's own names for it (`theano.function`, `theano.tensor.nnet.conv2d`, ...),
   given as "module:attribute" and imported only then (so DL.engine.conv, say,
   is imported by the first `T.nnet.conv2d`, not by `import DL`);
2. its child nodes: Theano's submodules that DL builds or renames
   (`theano.sandbox.rng_mrg`, `theano.tensor.nnet`, `theano.scan_module`);
3. names it refuses, with an AttributeError saying what to use instead;
4. its source modules, in order: DL's module for the node if it has one
   (DL.engine.theano_view.nnet), then the engine's own module
   (`pytensor.tensor`); an engine submodule becomes a node too, so that
   `theano.tensor.nlinalg.svd` or, on Theano, `theano.sandbox.rng_mrg` import
   as they are reached.

Nothing of the engine's modules is changed: the nodes only look names up.
The tree is written out below, one for each engine (TREES); the modules of
this package hold what PyTensor lacks (nnet, bn, rng_mrg, config, tensor).
"""
import importlib
import types

_NO_GPU = ("DL's view of Theano has no GPU back end: DL computes on the CPU, and on a GPU through "
           "JAX (pip install 'jax[cuda12]', then mode='JAX')")

_PYTENSOR_TREE = {
    "sources": ["pytensor"],
    "names": {"function": "DL.engine.backend:function", "scan": "DL.engine.backend:scan",
              "clone": "DL.engine.backend:clone",
              "shared": "DL.engine.theano_view.tensor:shared",
              "config": "DL.engine.theano_view.config:config",
              "map": "pytensor.scan.views:map", "reduce": "pytensor.scan.views:reduce",
              "foldl": "pytensor.scan.views:foldl", "foldr": "pytensor.scan.views:foldr",
              "subgraph_grad": "pytensor.gradient:subgraph_grad",
              "pp": "pytensor.printing:pp", "pprint": "pytensor.printing:pprint",
              "change_flags": "pytensor:config.change_flags",
              # Theano's dict of updates; PyTensor takes any ordered mapping
              "OrderedUpdates": "collections:OrderedDict"},
    "refused": {"gpuarray": _NO_GPU},
    "children": {
        "tensor": {
            "sources": ["DL.engine.theano_view.tensor", "pytensor.tensor"],
            "refused": {"raw_random": "PyTensor replaced theano.tensor.raw_random by its RandomVariable "
                                      "Ops; draw from theano.tensor.shared_randomstreams.RandomStreams"},
            "children": {
                "nnet": {
                    "sources": ["DL.engine.theano_view.nnet"],
                    "names": {"conv2d": "DL.engine.conv:conv2d"},
                    "refused": {"conv3d": "DL convolves in 2-D only: theano.tensor.nnet.conv2d",
                                "conv3d2d": "DL convolves in 2-D only: theano.tensor.nnet.conv2d"},
                    "children": {"bn": {"sources": ["DL.engine.theano_view.bn"]}},
                },
                "signal": {
                    "sources": ["pytensor.tensor.signal"],
                    "refused": {"downsample": "Theano 1.0 replaced theano.tensor.signal.downsample by "
                                              "theano.tensor.signal.pool (pool_2d)"},
                    "children": {"pool": {"names": {"pool_2d": "DL.engine.conv:pool_2d"}}},
                },
                "shared_randomstreams": {"names": {"RandomStreams": "DL.engine.backend:RandomStreams"}},
                # Theano's `T.var` is the variance, and `theano.tensor.var` the module of
                # TensorVariable: one node that is both (called: the variance)
                "var": {"sources": ["pytensor.tensor.variable"], "call": "pytensor.tensor:var"},
            },
        },
        "sandbox": {
            "refused": {"cuda": _NO_GPU, "gpuarray": _NO_GPU},
            "children": {"rng_mrg": {"sources": ["DL.engine.theano_view.rng_mrg"]}},
        },
        "gradient": {"sources": ["pytensor.gradient"],
                     # Theano 1.0's deprecated name: a gradient of zero, as zero_grad gives
                     "names": {"consider_constant": "pytensor.gradient:zero_grad"}},
        "scan_module": {"sources": ["pytensor.scan"], "names": {"scan": "DL.engine.backend:scan"}},
        "gof": {"sources": ["pytensor.graph"]},
        "ifelse": {"sources": ["pytensor.ifelse"]},  # pytensor.ifelse is also a function's name
    },
}

# Legacy Theano is Theano: the view only puts DL's function and scan in, the two
# names DL's modules spell as PyTensor does, and DL's convolution.
_THEANO_TREE = {
    "sources": ["theano"],
    "names": {"function": "DL.engine.backend:function", "scan": "DL.engine.backend:scan",
              "clone": "DL.engine.backend:clone"},
    "children": {
        "tensor": {
            "sources": ["theano.tensor"],
            "names": {"sigmoid": "theano.tensor.nnet:sigmoid", "softplus": "theano.tensor.nnet:softplus"},
            "children": {
                "nnet": {"sources": ["theano.tensor.nnet"], "names": {"conv2d": "DL.engine.conv:conv2d"}},
                "var": {"sources": ["theano.tensor.var"], "call": "theano.tensor.basic:var"},
                "signal": {"sources": ["theano.tensor.signal"],
                           "children": {"pool": {"sources": ["theano.tensor.signal.pool"],
                                                 "names": {"pool_2d": "DL.engine.conv:pool_2d"}}}},
            },
        },
        "scan_module": {"sources": ["theano.scan_module"], "names": {"scan": "DL.engine.backend:scan"}},
    },
}

TREES = {"pytensor": _PYTENSOR_TREE, "theano": _THEANO_TREE}


def _resolve(target):
    """The object named "module:attribute" (or "module:object.attribute")."""
    module_name, attributes = target.split(":")
    found = importlib.import_module(module_name)
    for attribute in attributes.split("."):
        found = getattr(found, attribute)
    return found


def _submodule(module_name):
    """The module `module_name`, imported now, or None when there is no such module."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            return None  # the module itself is missing (not one it imports)
        raise


class ViewModule(types.ModuleType):
    """One node of the view (`theano`, `theano.tensor`, `theano.tensor.nnet`, ...).

    `spec`: "names" (name -> "module:attribute", DL's), "children" (name ->
    spec of a child node), "refused" (name -> what to use instead) and
    "sources" (module names searched in order)."""

    def __init__(self, path, spec):
        super(ViewModule, self).__init__(path, "Theano 1.0's %s, as DL's engine view gives it "
                                               "(see DL.engine.theano_view)." % path)
        self.__dict__["_spec"] = spec

    def __call__(self, *args, **kwargs):
        """A node that is also a function (`T.var`: the variance, as in Theano)."""
        if "call" not in self._spec:
            raise TypeError("%s is a module of DL's view of Theano, not a function"
                            % ".".join(["theano"] + self.__name__.split(".")[1:]))
        return _resolve(self._spec["call"])(*args, **kwargs)

    def __getattr__(self, name):
        if name == "__version__" and self._spec.get("sources"):  # theano.__version__: the engine's
            return getattr(importlib.import_module(self._spec["sources"][-1]), name)
        if name.startswith("__"):
            raise AttributeError(name)
        value = self._find(name)
        setattr(self, name, value)  # found once; later look-ups are plain attributes
        return value

    def _find(self, name):
        spec = self._spec
        path = ".".join(["theano"] + self.__name__.split(".")[1:] + [name])  # as a script spells it
        if name in spec.get("names", {}):
            target = spec["names"][name]
            try:
                return _resolve(target)
            except ModuleNotFoundError as error:
                raise AttributeError("%s is DL's %s, and DL's module %s is not installed here"
                                     % (path, target.replace(":", "."), error.name)) from error
        if name in spec.get("children", {}):
            return ViewModule(self.__name__ + "." + name, spec["children"][name])
        if name in spec.get("refused", {}):
            raise AttributeError("%s is not in DL's view of Theano: %s" % (path, spec["refused"][name]))
        for source in spec.get("sources", []):
            module = importlib.import_module(source)
            exported = getattr(module, "__all__", None)
            if source.startswith("DL.") and exported is not None and name not in exported:
                continue  # DL's module's own imports are not the view's names
            if hasattr(module, name):
                value = getattr(module, name)
                if isinstance(value, types.ModuleType) and value.__name__ == source + "." + name:
                    return ViewModule(self.__name__ + "." + name, {"sources": [value.__name__]})
                return value
            if not source.startswith("DL.") and _submodule(source + "." + name) is not None:
                return ViewModule(self.__name__ + "." + name, {"sources": [source + "." + name]})
        raise AttributeError("%s is not in DL's view of Theano: neither DL nor %s defines it"
                             % (path, " nor ".join(s for s in spec.get("sources", []) if not s.startswith("DL."))
                                or "the engine"))

    def __dir__(self):
        spec = self._spec
        names = set(spec.get("names", {})) | set(spec.get("children", {})) | set(self.__dict__)
        for source in spec.get("sources", []):
            module = importlib.import_module(source)
            names |= set(getattr(module, "__all__", None) or
                         (name for name in dir(module) if not name.startswith("_")))
        return sorted(names)

    def __reduce__(self):
        # pickled by its path, so that a function using T can go to other processes
        # (DL.sweep's Dask workers): it unpickles as that process's node
        return node, (self.__name__,)


_ROOTS = {}


def root(engine):
    """The view's root for `engine` ("pytensor" or "theano"), made once."""
    if engine not in _ROOTS:
        _ROOTS[engine] = ViewModule(TREES[engine]["sources"][0], TREES[engine])
    return _ROOTS[engine]


def node(path):
    """The node at `path` ("pytensor.tensor.nnet") of the running engine's view."""
    from DL.engine.backend import theano
    found = theano
    for part in path.split(".")[1:]:
        found = getattr(found, part)
    return found
