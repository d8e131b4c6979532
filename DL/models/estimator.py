"""The recurrence every state estimator shares (USE, SSE, MUSE, EUSE), written once.

An agent acts and observes.  The estimator keeps a state that summarizes what
it has seen and done:

    h_t = filter(k_{t-1}, o_t)        the state after observing o_t
    k_t = transform(h_t, a_t)         the predictive state after doing a_t
    k_{-1} = k0                       a learned prior, shared by every sequence
    y_t = predictor(k_t)              (USE, MUSE, EUSE: the next observation)
    y_t = predictor(h_t)              (SSE: a label of what is being observed)

    obs (n_examples, n_timesteps, n_obs)   act (n_examples, n_timesteps, n_act)
    h, k (n_examples, n_timesteps, n_hidden)   y (n_examples, n_timesteps, n_out)

`obs` and `act` have the same length: a_t is the action done after seeing o_t.
(The next-observation estimators also take the original package's layout, one
action fewer than observations; see `check_sequences`.)
The hooks are batch-major, as every sequence in DL.

An estimator is made of named parts, each a layer or a list of layers:

    observation   layers on o before the recurrence (USE: observationFF; EUSE:
                  embeddingLayer, observationFF; MUSE: none)
    action        layers on a before the recurrence (USE: actionFF)
    filter        the cell (k_{t-1}, o_t) -> h_t
    transform     the cell (h_t, a_t) -> k_t
    predictor     layers on k_t (or h_t) after it (predictorFF, outputLayer)

A *cell* is one half of the recurrence.  `DeepCell` is the USE's: a deep net
on the state (`ff_filt`, `ff_trans`) joined with the input's features by one
hidden layer.  `GatedCell` is the MUSE's: a multiplicative unit in which the
input gates the state.  The observation, action and predictor parts have no
recurrence, so they run on whole sequences outside the loop; the recurrence is
one cell on DL.recurrence's loop over time, whose step is `StateEstimator.step`
(states h and k; only k is read back).

Dropout (`dropout_rate > 0`): every hidden layer's output is dropped on the
training path.  Inside the recurrence each sequence draws one mask per layer,
outside the scan, and keeps it for all its steps (variational dropout, Gal and
Ghahramani 2016); a fresh mask per step would inject noise into the state at
every step.  The deterministic path (pred, errors, h_t, k_t) drops nothing.

Bad input is refused before any graph is built: tensors of the wrong rank,
`ff_*` lists with a missing size, static shapes that disagree.  Lengths and
batch sizes of symbolic `obs` and `act` are only known when the function runs,
so they are checked then, with the same kind of message.
"""
import numbers

import numpy

from DL import activations
from DL.backend import T, RandomStreams, check_and_raise
from DL.dropout import check_rate, dropout_mask
from DL.init import glorot_uniform
from DL.models.ForwardFeed import ForwardFeed
from DL.models.HiddenLayer import HiddenLayer
from DL.models.MultiplicativeLayer import MultiplicativeLayer
from DL.models.base import Model, as_tensor, chain, check_size, make_param, output_errors, output_loss, seed_from
from DL.recurrence import Cell, run

OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "linear")


# --- checking arguments, before any graph is built ---------------------------

def check_hidden_sizes(sizes, argument, owner):
    """`sizes` (a list of layer sizes, possibly empty) as a list of ints, or a clear error."""
    if sizes is None:
        return []
    if isinstance(sizes, numbers.Integral) or not hasattr(sizes, "__iter__"):
        raise ValueError("%s: %s must be a list of hidden layer sizes, e.g. [50] or [] for "
                         "none, got %r" % (owner, argument, sizes))
    sizes = list(sizes)
    for i, size in enumerate(sizes):
        check_size(size, "%s: %s[%d] (%s lists the hidden sizes of a sub-network)"
                   % (owner, argument, i, argument))
    return [int(size) for size in sizes]


def check_output_activation(outputActivation, owner):
    """`outputActivation` if it is softmax, sigmoid or linear, else a ValueError."""
    if outputActivation not in OUTPUT_ACTIVATIONS:
        raise ValueError("%s: outputActivation must be one of %s (one-hot, binary or real "
                         "outputs), got %r" % (owner, ", ".join(OUTPUT_ACTIVATIONS), outputActivation))
    return outputActivation


def _static_shape(tensor):
    """The shape known before the function runs (None where unknown)."""
    shape = getattr(tensor.type, "shape", None)
    if shape:
        return tuple(shape)
    data = getattr(tensor, "data", None)  # a constant: legacy Theano's types carry no shape
    return numpy.shape(data) if data is not None else (None,) * tensor.ndim


def check_sequences(obs, act, n_obs, n_act, owner, obs_kind="float", one_fewer_action=False):
    """(obs, act, checked_obs, checked_act): the inputs as tensors of the right rank, and
    the two tensors to build the model on (users feed `obs` and `act`).

    What the static shapes already tell is refused here, before any graph is built.
    What only the data can tell is checked when the function runs: `checked_obs` and
    `checked_act` pass through those checks, so every computation on the sequences
    comes after them, and a disagreement raises DL's ValueError, not an engine's
    assertion.  Their shapes, as the engine infers them, are `(n_examples of obs,
    n_timesteps of obs, n_obs)` and `(..., n_act)`: the engine computes shapes
    (the gradient's buffers, broadcasting checks) apart from the data, so a shape
    read from unchecked `act` or from obs's last axis could disagree, and fail
    in the engine, before DL's checks have run.

    `one_fewer_action=True` (the next-observation estimators) also takes the original
    package's layout, T + 1 observations and T actions: a_t is done between o_t and
    o_{t+1}.  `act` is then padded with one zero action, after the last observation,
    whose prediction has no target.  `obs_kind="int"` takes observation ids
    `(n_examples, n_timesteps)` (EUSE)."""
    n_obs = check_size(n_obs, owner + ": n_obs")
    n_act = check_size(n_act, owner + ": n_act")
    if obs_kind == "int":
        obs = as_tensor(obs, owner + ": obs", (2,), "of observation ids (n_examples, n_timesteps)",
                        kind="int")
    else:
        obs = as_tensor(obs, owner + ": obs", (3,), "(n_examples, n_timesteps, n_obs=%d)" % n_obs)
    act = as_tensor(act, owner + ": act", (3,), "(n_examples, n_timesteps, n_act=%d)" % n_act)
    rules = _agreement(obs, act, n_obs, n_act, owner, one_fewer_action)
    for known, condition, message in rules:
        if known is False:
            raise ValueError(message)
    checked_obs, checked_act = obs, act
    for known, condition, message in rules:
        if known is None:
            checked_obs = check_and_raise(checked_obs, condition, message, ValueError)
            checked_act = check_and_raise(checked_act, condition, message, ValueError)
    # Shapes read from what was checked: n_obs, n_act and obs's first two axes.
    if obs.ndim == 3:
        checked_obs = checked_obs.reshape((obs.shape[0], obs.shape[1], n_obs))
    in_obs_layout = T.zeros((obs.shape[0], obs.shape[1], n_act), dtype=act.dtype)
    checked_act = T.set_subtensor(in_obs_layout[:, :act.shape[1]], checked_act)
    return obs, act, checked_obs, checked_act


def _agreement(obs, act, n_obs, n_act, owner, one_fewer_action=False):
    """(statically known outcome or None, symbolic condition, message) for each rule.

    A rule holds when `left - right` is one of its allowed differences."""
    obs_shape, act_shape = _static_shape(obs), _static_shape(act)
    layouts = "as many timesteps as obs (a_t is done after seeing o_t)"
    if one_fewer_action:
        layouts += (", or one fewer (the original package's layout: T + 1 observations, "
                    "T actions)")
    rules = [(obs.shape[0], act.shape[0], obs_shape[0], act_shape[0], (0,),
              "%s: obs and act must hold the same number of examples (axis 0)" % owner),
             (obs.shape[1], act.shape[1], obs_shape[1], act_shape[1], (0, 1) if one_fewer_action else (0,),
              "%s: act must have %s (axis 1)" % (owner, layouts)),
             (act.shape[2], n_act, act_shape[2], n_act, (0,),
              "%s: act must be (n_examples, n_timesteps, n_act=%d)" % (owner, n_act))]
    if obs.ndim == 3:
        rules.append((obs.shape[2], n_obs, obs_shape[2], n_obs, (0,),
                      "%s: obs must be (n_examples, n_timesteps, n_obs=%d)" % (owner, n_obs)))
    checked = []
    for left, right, static_left, static_right, differences, message in rules:
        known = None if static_left is None or static_right is None else \
            static_left - static_right in differences
        if known is False:
            message += "; got %s and %s" % (static_left, static_right)
        holds = T.eq(left - right, differences[0])
        for difference in differences[1:]:
            holds = T.or_(holds, T.eq(left - right, difference))
        checked.append((known, holds, message))
    return checked


# --- cells: the two halves of the recurrence -----------------------------------

# Sizes inside the recurrence stay symbolic (read from the weights' shapes): a static size
# would be compiled into the scan's code, and every new layer size would cost a fresh compile.

def _drop(x, mask):
    return x if mask is None else x * mask


class DeepCell(object):
    """new = act([chain(state), features] W + b); chain = a ForwardFeed of `hidden_sizes`.

    rng          numpy.random.RandomState: draws the chain's weights, then the layer's
    n_state      the state's size (state `(n_examples, n_state)`)
    n_features   the input features' size (features `(n_examples, n_features)`)
    n_out        the new state's size;  hidden_sizes  the chain's hidden sizes (may be empty)
    chain_params, layer_params   the chain's `[[W, b], ...]` and the joining layer's `[W, b]`,
                 given apart so that the estimator keeps the original package's nesting

    Both are built as parameters only; `step` applies them to the scan's tensors."""

    def __init__(self, rng, n_state, n_features, n_out, hidden_sizes, activation,
                 chain_params, layer_params, chain_name, layer_name):
        self.chain = ForwardFeed(rng, None, [n_state] + hidden_sizes, 0, chain_params, activation,
                                 name=chain_name)
        n_joined = ([n_state] + hidden_sizes)[-1] + n_features
        self.layer = HiddenLayer(rng, None, n_joined, n_out, 0, layer_params, activation, name=layer_name)
        self.mask_sizes = [layer.b.shape[0] for layer in self.chain.layers + [self.layer]]

    def step(self, state, features, masks):
        """The new state `(n_examples, n_out)`; `masks` one dropout mask (or None) per layer."""
        x = state
        for layer, mask in zip(self.chain.layers, masks):
            x = _drop(layer.apply(x), mask)
        return _drop(self.layer.apply(T.concatenate([x, features], axis=-1)), masks[-1])


class GatedCell(object):
    """new = MultiplicativeLayer(input=state, mult=features): the features gate the state.

    Arguments as MultiplicativeLayer's: state `(n_examples, n_state)`, features
    `(n_examples, n_features)`, `n_fact` factors; params its 5 entries."""

    def __init__(self, rng, n_state, n_features, n_out, n_fact, activation, params, name):
        self.layer = MultiplicativeLayer(rng, None, None, n_state, n_out, n_features, n_fact, activation,
                                         params, name=name)
        self.mask_sizes = [self.layer.b.shape[0]]

    def step(self, state, features, masks):
        """The new state `(n_examples, n_out)`; `masks` `[mask or None]`."""
        return _drop(self.layer.apply((state, features)), masks[0])


# --- the estimator ----------------------------------------------------------------

class StateEstimator(Model):
    """Base of the state estimators: the parts' wiring and the recurrence, once.

    A subclass calls `StateEstimator.__init__` (k0, the dropout stream), builds its
    parts (`observation`, `action`: lists of layers; `filter`, `transform`: cells;
    `predictor`: a list of layers ending in `outputLayer`), lists its
    parameterized layers in `layers` (the params nesting), and calls
    `connect((obs, act))`.

    Hooks (batch-major): `output`, `output_deterministic` (the y_t), `pred`,
    `h_t`, `k_t` (states on the deterministic path), `params` = `[k0] + the
    params of each of `layers`, `L1`, `L2_sqr` (weights, not k0), `updates`."""

    predict_from = "k"  # which state the predictor reads: "k" (USE) or "h" (SSE)
    observation = action = predictor = ()

    def __init__(self, rng, n_hidden, dropout_rate, activation, outputActivation, k0, name):
        """rng draws k0 (Glorot-uniform, `(n_hidden,)`) unless `k0` is given, then the
        dropout seed; activation is the hidden layers'; outputActivation the predictor's."""
        self.name = name
        self.n_hidden = check_size(n_hidden, name + ": n_hidden")
        self.dropout_rate = check_rate(dropout_rate)
        self.activation = activation
        activations.get(activation)
        self.outputActivation = check_output_activation(outputActivation, name)
        self.k0 = make_param(k0, (self.n_hidden,), "k0", name, lambda: glorot_uniform(
            rng, 1, self.n_hidden, activations.name_of(activation))[0])
        self.srng = RandomStreams(seed_from(rng)) if self.dropout_rate > 0 else None

    @property
    def params(self):
        """`[k0 (n_hidden,)]` + each of `layers`' params (the original package's nesting)."""
        return [self.k0] + [layer.params for layer in self.layers]

    def check_input(self, input):
        return input  # (obs, act), checked by check_sequences

    def trace(self, inputs, mask=None, train=False):
        """{"output": y `(n_examples, n_timesteps, n_out)`, "h", "k": the states, "top": the
        predictor's input} for inputs = (obs, act); dropout when `train`.  (`mask` is unused:
        the recurrence runs over every step; `loss(mask=...)` leaves padding out.)"""
        obs, act = inputs
        obs_features, act_features = chain(self.observation, obs, train=train), chain(self.action, act, train=train)
        h, k = self.recurrence(obs_features, act_features, train)
        top = chain(self.predictor[:-1], h if self.predict_from == "h" else k, train=train)
        return {"output": self.outputLayer.apply(top, train=train), "h": h, "k": k, "top": top}

    def apply(self, inputs, mask=None, train=False):
        """y `(n_examples, n_timesteps, n_out)` for inputs = (obs, act), the two as one tuple."""
        return self.trace(inputs, mask, train)["output"]

    def connect(self, inputs, mask=None):
        super().connect(inputs, mask)
        self.h_t, self.k_t = self.deterministic["h"], self.deterministic["k"]

    def step(self, o_t, a_t, k_tm1, *masks):
        """One step of the recurrence, the definition: (h_t, k_t) `(n_examples, n_hidden)`
        from the features o_t, a_t, the state k_{t-1} and the sequence's dropout masks
        (one per layer inside the cells, or none)."""
        n_filter = len(self.filter.mask_sizes)
        masks = list(masks) or [None] * (n_filter + len(self.transform.mask_sizes))
        h_t = self.filter.step(k_tm1, o_t, masks[:n_filter])
        return h_t, self.transform.step(h_t, a_t, masks[n_filter:])

    def recurrence(self, obs_features, act_features, train):
        """(h, k), each `(n_examples, n_timesteps, n_hidden)`, from the features of obs
        `(n_examples, n_timesteps, n_o)` and act `(n_examples, n_timesteps, n_a)`."""
        n_examples = obs_features.shape[0]
        masks = self.dropout_masks(n_examples) if train and self.dropout_rate > 0 else []
        # the state takes the widest float type of k0 and the inputs (float64 data, float32 weights)
        dtype = numpy.result_type(self.k0.dtype, obs_features.dtype, act_features.dtype).name
        k_prior = T.cast(T.alloc(self.k0, n_examples, self.k0.shape[0]), dtype)
        # The cells' layers use their own shared weights: the loop is not strict.
        h, k = run(Cell(self.step, states=("h", "k")), [obs_features, act_features], [None, k_prior], masks,
                   strict=False)
        return h, k

    def dropout_masks(self, n_examples):
        """One dropout mask `(n_examples, size)` per sequence for each layer inside the recurrence."""
        sizes = self.filter.mask_sizes + self.transform.mask_sizes
        return [dropout_mask(self.srng, self.dropout_rate, (n_examples, size)) for size in sizes]

    def predictor_layers(self, rng, n_out, hidden_sizes, ff_params, output_params):
        """[predictorFF, outputLayer] (no predictorFF when hidden_sizes is None): layers on
        the state `(..., n_hidden)` -> y `(..., n_out)`."""
        self.predictorFF, n_top = None, self.n_hidden
        if hidden_sizes is not None:
            self.predictorFF = ForwardFeed(rng, None, [n_top] + hidden_sizes, self.dropout_rate, ff_params,
                                           self.activation, name=self.name + ".predictorFF")
            n_top = ([n_top] + hidden_sizes)[-1]
        self.outputLayer = HiddenLayer(rng, None, n_top, n_out, 0, output_params, self.outputActivation,
                                       name=self.name + ".outputLayer")
        return [layer for layer in (self.predictorFF, self.outputLayer) if layer is not None]


class DeepEstimator(StateEstimator):
    """The USE's parts (USE, SSE, EUSE): deep feature nets, DeepCells, a deep predictor."""

    def deep_parts(self, rng, n_obs_features, n_act, n_out, sizes, params):
        """Build observationFF, actionFF, filter, transform and the predictor; return the
        layers in the original package's params order.

        n_obs_features  the size of what observationFF reads;  sizes  ff_obs, ff_filt,
        ff_trans, ff_act, ff_pred;  params  the 8 entries observationFF, filterFF,
        hLayer, transformFF, actionFF, kLayer, predictorFF, outputLayer."""
        ff_obs, ff_filt, ff_trans, ff_act, ff_pred = sizes
        name, n_hidden, rate, activation = self.name, self.n_hidden, self.dropout_rate, self.activation
        # built (and their weights drawn) in this order, the original package's
        self.observationFF = ForwardFeed(rng, None, [n_obs_features] + ff_obs, rate, params[0], activation,
                                         name=name + ".observationFF")
        self.actionFF = ForwardFeed(rng, None, [n_act] + ff_act, rate, params[4], activation,
                                    name=name + ".actionFF")
        self.filter = DeepCell(rng, n_hidden, ([n_obs_features] + ff_obs)[-1], n_hidden, ff_filt, activation,
                               params[1], params[2], name + ".filterFF", name + ".hLayer")
        self.transform = DeepCell(rng, n_hidden, ([n_act] + ff_act)[-1], n_hidden, ff_trans, activation,
                                  params[3], params[5], name + ".transformFF", name + ".kLayer")
        self.filterFF, self.hLayer = self.filter.chain, self.filter.layer
        self.transformFF, self.kLayer = self.transform.chain, self.transform.layer
        self.observation, self.action = [self.observationFF], [self.actionFF]
        self.predictor = self.predictor_layers(rng, n_out, ff_pred, params[6], params[7])
        return [self.observationFF, self.filterFF, self.hLayer, self.transformFF, self.actionFF,
                self.kLayer, self.predictorFF, self.outputLayer]


class NextObservationEstimator(StateEstimator):
    """An unsupervised estimator: y_t is the distribution of o_{t+1}.

    `loss(mask=None)` and `errors(mask=None)` compare y_0 .. y_{T-2} with
    o_1 .. o_{T-1}; the last prediction has no target.  They take no targets y
    (the observations are the targets) and refuse one.  An optional `mask`
    `(n_examples, n_timesteps)` marks the valid observations (1) of padded
    sequences; y_t counts where o_{t+1} is valid.  Targets: class ids for
    softmax, the observation vectors for sigmoid (binary) and linear (real) outputs."""

    def next_observation_targets(self, observed):
        """Set the targets: `observed` holds the observations, (n, T) ids or (n, T, n_obs)."""
        self.next_observation = observed[:, 1:]

    def next_output(self, top):
        """y_0 .. y_{T-2} from the predictor's input `top` `(n, T, n_top)`.  The logits are
        sliced, not the probabilities, so that the loss still sees a softmax or sigmoid
        node and computes it from the logits (finite when saturated)."""
        activation = activations.get(self.outputActivation)
        return activation(self.outputLayer.preactivation(top)[:, :-1])

    def targets(self, y, mask, hook):
        if y is not None:
            raise TypeError("%s.%s() takes no targets y: y_t is compared with the next observation "
                            "o_{t+1} of obs itself; pass a padding mask as %s(mask=...)"
                            % (type(self).__name__, hook, hook))
        if mask is None:
            return self.next_observation, None
        mask = as_tensor(mask, self.name + ": mask", (2,), "(n_examples, n_timesteps), 1 where the "
                         "observation is real (the estimator needs no targets)")
        return self.next_observation, mask[:, 1:]

    def loss(self, y=None, mask=None):
        """Negative log-likelihood (or mse) of the next observations; no y (see the class)."""
        y, mask = self.targets(y, mask, "loss")
        return output_loss(self.outputActivation, self.next_output(self.trained["top"]), y, mask)

    def errors(self, y=None, mask=None):
        """Error rate of the predicted next observations (mse for linear outputs), no dropout; no y."""
        y, mask = self.targets(y, mask, "errors")
        return output_errors(self.outputActivation, self.next_output(self.deterministic["top"]), y, mask)


def observed_targets(obs, outputActivation):
    """The observations `(n, T, n_obs)` as targets: class ids for softmax, else the vectors."""
    return T.argmax(obs, axis=-1) if outputActivation == "softmax" else obs


def check_deep_sizes(owner, ff_obs, ff_filt, ff_trans, ff_act, ff_pred):
    """The five ff_* lists, checked, in that order."""
    named = (("ff_obs", ff_obs), ("ff_filt", ff_filt), ("ff_trans", ff_trans), ("ff_act", ff_act),
             ("ff_pred", ff_pred))
    return [check_hidden_sizes(sizes, argument, owner) for argument, sizes in named]
