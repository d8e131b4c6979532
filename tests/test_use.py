"""USE: the hooks' shapes and values, gradients, causality, params=, bad input, and
that it learns the 1-D map.

Graphs for values and gradients are built in float64 (float64 inputs and params),
so they compare tightly with NumPy and with finite differences.  The helpers at
the top are shared by the other estimator tests (test_muse, test_sse, test_euse).
"""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL import backend
from DL.backend import T, function, grad, shared
from DL.datasets import map1d, seeded_sets
from DL.models.USE import USE
from DL.optimizers import optimize
from DL.utils import flatten, load_data

N_OBS, N_ACT, N_HIDDEN = 3, 2, 4
DEEP = dict(ff_obs=[2], ff_filt=[3], ff_trans=[2], ff_act=[2], ff_pred=[3])


# --- helpers shared by the estimator tests ------------------------------------------

def float64_copy(params):
    """The nesting of `params` with a float64 shared variable for each leaf."""
    if isinstance(params, (list, tuple)):
        return [float64_copy(item) for item in params]
    return shared(numpy.asarray(params.get_value(), dtype="float64"))


def walks(rng, n_examples=3, n_steps=5, n_obs=N_OBS, n_act=N_ACT):
    """Random one-hot observations and actions (not a task: any sequence will do)."""
    obs = numpy.eye(n_obs)[rng.randint(n_obs, size=(n_examples, n_steps))]
    act = numpy.eye(n_act)[rng.randint(n_act, size=(n_examples, n_steps))]
    return obs, act


def sequences(obs_ndim=3, obs_dtype="float64"):
    """Symbolic (obs, act) for float64 graphs."""
    obs = T.tensor3("obs", dtype=obs_dtype) if obs_ndim == 3 else T.matrix("obs", dtype=obs_dtype)
    return obs, T.tensor3("act", dtype="float64")


def assert_gradients_match(cost, params, inputs, values, numeric_grad):
    """grad(cost, params) equals central differences of cost at the params' values."""
    params = flatten(params)
    # the same dropout masks at every call: random draws held fixed
    analytic = function(inputs, grad(cost, params), no_default_updates=True)(*values)
    cost_of = function(inputs, cost, no_default_updates=True)

    def cost_at(*param_values):
        for param, value in zip(params, param_values):
            param.set_value(value)
        return cost_of(*values)

    numeric = numeric_grad(cost_at, [param.get_value() for param in params])
    for param, a, n in zip(params, analytic, numeric):
        assert_allclose(a, n, rtol=1e-5, atol=1e-7, err_msg="gradient of %s" % param.name)
    assert any(numpy.abs(a).max() > 1e-4 for a in analytic), "all gradients vanish: nothing was checked"


def values_of(params):
    """The nesting of `params` with each shared variable's value (what a saved model holds)."""
    if isinstance(params, (list, tuple)):
        return [values_of(item) for item in params]
    return params.get_value()


def assert_round_trip(build, outputs_of):
    """A model built with params=<another's values> has the same nesting and computes the same."""
    first = build(None)
    second = build(values_of(first.params))
    assert [leaf.get_value().shape for leaf in flatten(second.params)] == \
        [leaf.get_value().shape for leaf in flatten(first.params)]
    assert all(x is not y for x, y in zip(flatten(first.params), flatten(second.params)))
    for a, b in zip(outputs_of(first), outputs_of(second)):
        assert_allclose(a, b)


def assert_causal(predict, obs, act, t, action_counts):
    """predict(obs, act)[:, :t+1] ignores o_{>t} and a_{>t}; whether it reads a_t is `action_counts`."""
    before = predict(obs, act)
    later_obs, later_act = obs.copy(), act.copy()
    later_obs[:, t + 1:] = later_obs[:, t + 1:][:, ::-1]
    later_act[:, t + 1:] = 1 - later_act[:, t + 1:]
    after = predict(later_obs, later_act)
    assert_allclose(before[:, :t + 1], after[:, :t + 1])
    assert not numpy.allclose(before[:, t + 1:], after[:, t + 1:]), "the future changed nothing at all"
    flipped = act.copy()
    flipped[:, t] = 1 - flipped[:, t]
    changed = predict(obs, flipped)
    assert_allclose(before[:, :t], changed[:, :t])
    assert numpy.allclose(before[:, t], changed[:, t]) != action_counts


def np_next_observation_loss(output, obs, activation):
    """The loss of y_0..y_{T-2} against o_1..o_{T-1}, in NumPy."""
    y, target = output[:, :-1], obs[:, 1:]
    if activation == "softmax":
        return -numpy.mean(numpy.log(numpy.sum(y * target, axis=-1)))
    if activation == "sigmoid":
        return -numpy.mean(target * numpy.log(y) + (1 - target) * numpy.log(1 - y))
    return numpy.mean((y - target) ** 2)


def np_next_observation_errors(output, obs, activation):
    y, target = output[:, :-1], obs[:, 1:]
    if activation == "softmax":
        return numpy.mean(y.argmax(-1) != target.argmax(-1))
    if activation == "sigmoid":
        return numpy.mean(numpy.round(y) != target)
    return numpy.mean((y - target) ** 2)


def np_softmax(a):
    e = numpy.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_recurrence(k0, filter_step, transform_step, obs, act):
    """h, k `(n, T, n_hidden)` by the documented equations, one step at a time."""
    k = numpy.repeat(k0[None], len(obs), axis=0)
    hs, ks = [], []
    for t in range(obs.shape[1]):
        h = filter_step(k, obs[:, t])
        k = transform_step(h, act[:, t])
        hs.append(h)
        ks.append(k)
    return numpy.stack(hs, axis=1), numpy.stack(ks, axis=1)


# --- the USE ------------------------------------------------------------------------------

def use64(rng, activation="softmax", dropout_rate=0, params=None, deep=True):
    obs, act = sequences()
    model = USE(rng, obs, act, N_OBS, N_ACT, N_HIDDEN, dropout_rate=dropout_rate,
                outputActivation=activation, params=params, **(DEEP if deep else {}))
    if params is None:  # rebuild on float64 copies of the params
        return use64(rng, activation, dropout_rate, float64_copy(model.params), deep)
    return model


@pytest.mark.parametrize("activation", ["softmax", "sigmoid", "linear"])
def test_hooks_have_their_shapes_and_values(rng, activation):
    obs, act = walks(rng, n_examples=3, n_steps=5)
    use = use64(rng, activation)
    hooks = function([use.obs, use.act], [use.output, use.output_deterministic, use.pred, use.h_t,
                                          use.k_t, use.loss(), use.errors()])
    output, deterministic, pred, h, k, loss, errors = hooks(obs, act)
    assert output.shape == deterministic.shape == (3, 5, N_OBS)
    assert h.shape == k.shape == (3, 5, N_HIDDEN)
    assert pred.shape == ((3, 5) if activation == "softmax" else (3, 5, N_OBS))
    assert loss.shape == errors.shape == ()
    assert_allclose(output, deterministic)  # no dropout
    assert_allclose(loss, np_next_observation_loss(output, obs, activation), rtol=1e-10)
    assert_allclose(errors, np_next_observation_errors(output, obs, activation), rtol=1e-6)  # error rates are floatX
    if activation == "softmax":
        assert_allclose(output.sum(-1), 1)
        assert_allclose(pred, output.argmax(-1))


def test_the_recurrence_computes_the_documented_equations(rng):
    """h_t = tanh([k_{t-1}, o_t] W_h + b_h), k_t = tanh([h_t, a_t] W_k + b_k), y_t = softmax(k_t W_y + b_y)."""
    obs, act = walks(rng, n_examples=3, n_steps=5)
    use = use64(rng, deep=False)
    h, k, y = function([use.obs, use.act], [use.h_t, use.k_t, use.output])(obs, act)
    k0, _, _, (W_h, b_h), _, _, (W_k, b_k), _, (W_y, b_y) = values_of(use.params)
    h_np, k_np = np_recurrence(k0, lambda k, o: numpy.tanh(numpy.concatenate([k, o], -1) @ W_h + b_h),
                               lambda h, a: numpy.tanh(numpy.concatenate([h, a], -1) @ W_k + b_k), obs, act)
    assert_allclose(h, h_np, rtol=1e-10)
    assert_allclose(k, k_np, rtol=1e-10)
    assert_allclose(y, np_softmax(k_np @ W_y + b_y), rtol=1e-10)


def test_mask_counts_a_prediction_only_where_the_next_observation_is_real(rng):
    obs, act = walks(rng, n_examples=3, n_steps=5)
    mask = numpy.ones((3, 5))
    mask[0, 3:] = 0  # sequence 0 has 3 observations: y_0, y_1 have targets
    use = use64(rng)
    m = T.matrix("mask", dtype="float64")
    output, loss = function([use.obs, use.act, m], [use.output, use.loss(mask=m)])(obs, act, mask)
    picked = numpy.log(numpy.sum(output[:, :-1] * obs[:, 1:], axis=-1))
    assert_allclose(loss, -numpy.sum(picked * mask[:, 1:]) / mask[:, 1:].sum(), rtol=1e-10)


@pytest.mark.slow
def test_gradients_match_finite_differences_with_dropout(rng, numeric_grad):
    """Through the scan, every sub-network, k0 and the per-sequence dropout masks
    (without the rng updates the masks are the same at every call)."""
    obs, act = walks(rng, n_examples=2, n_steps=4)
    use = use64(rng, dropout_rate=0.3)
    cost = use.loss() + 1e-3 * use.L2_sqr
    assert_gradients_match(cost, use.params, [use.obs, use.act], [obs, act], numeric_grad)


@pytest.mark.parametrize("activation", ["sigmoid", "linear"])
def test_gradients_of_binary_and_real_losses(rng, numeric_grad, activation):
    obs, act = walks(rng, n_examples=2, n_steps=4)
    use = use64(rng, activation)
    assert_gradients_match(use.loss(), use.params, [use.obs, use.act], [obs, act], numeric_grad)


def test_dropout_masks_are_drawn_once_per_sequence_and_only_for_training(rng):
    obs, act = walks(rng, n_examples=2, n_steps=6)
    use = use64(rng, dropout_rate=0.5)
    f = function([use.obs, use.act], [use.output, use.output_deterministic], updates=use.updates)
    first, deterministic = f(obs, act)
    second, deterministic_again = f(obs, act)
    assert not numpy.allclose(first, second), "the training path drew the same masks twice"
    assert_allclose(deterministic, deterministic_again)
    # the states' masks live outside the scan: one draw per layer, not one per step
    assert len(use.srng.updates()) == len(use.filter.mask_sizes) + len(use.transform.mask_sizes)


def test_prediction_reads_the_past_and_the_current_action_only(rng):
    obs, act = walks(rng, n_examples=2, n_steps=6)
    use = use64(rng)
    predict = function([use.obs, use.act], use.output_deterministic)
    assert_causal(predict, obs, act, t=2, action_counts=True)


def test_params_nest_as_the_original_and_round_trip(rng):
    use = use64(rng)
    assert len(use.params) == 9
    assert use.params[0] is use.k0 and use.params[3] == use.hLayer.params
    assert [len(entry) for entry in use.params[1:]] == [1, 1, 2, 1, 1, 2, 1, 2]  # layers per ForwardFeed, [W, b]
    obs, act = walks(rng)
    assert_round_trip(lambda params: use64(rng, params=params),
                      lambda model: function([model.obs, model.act], [model.output])(obs, act))


# --- bad input: clear errors before any graph is built -----------------------------------

def test_missing_or_malformed_ff_sizes_are_refused(rng):
    obs, act = sequences()
    with pytest.raises(ValueError, match=r"ff_filt\[1\]"):
        USE(rng, obs, act, N_OBS, N_ACT, N_HIDDEN, ff_filt=[3, None])
    with pytest.raises(ValueError, match="ff_pred must be a list"):
        USE(rng, obs, act, N_OBS, N_ACT, N_HIDDEN, ff_pred=5)
    with pytest.raises(ValueError, match=r"ff_obs\[0\]"):
        USE(rng, obs, act, N_OBS, N_ACT, N_HIDDEN, ff_obs=[0])


def test_wrong_ranks_activations_and_static_shapes_are_refused(rng):
    obs, act = sequences()
    with pytest.raises(ValueError, match=r"act must be \(n_examples, n_timesteps, n_act=2\)"):
        USE(rng, obs, T.matrix(), N_OBS, N_ACT, N_HIDDEN)
    with pytest.raises(ValueError, match="outputActivation must be one of softmax, sigmoid, linear"):
        USE(rng, obs, act, N_OBS, N_ACT, N_HIDDEN, outputActivation="tanh")
    with pytest.raises(ValueError, match="n_hidden"):
        USE(rng, obs, act, N_OBS, N_ACT, 0)
    five, four = T.as_tensor_variable(numpy.zeros((2, 5, N_OBS))), T.as_tensor_variable(numpy.zeros((2, 4, N_ACT)))
    three = T.as_tensor_variable(numpy.zeros((2, 3, N_ACT)))
    four_obs = T.as_tensor_variable(numpy.zeros((2, 4, N_OBS)))
    with pytest.raises(ValueError, match="act must have as many timesteps as obs .*, or one fewer.*got 5 and 3"):
        USE(rng, five, three, N_OBS, N_ACT, N_HIDDEN)
    with pytest.raises(ValueError, match="act must have as many timesteps as obs"):
        USE(rng, four_obs, T.as_tensor_variable(numpy.zeros((2, 5, N_ACT))), N_OBS, N_ACT, N_HIDDEN)
    USE(rng, five, four, N_OBS, N_ACT, N_HIDDEN)  # the original package's layout: T + 1 and T
    with pytest.raises(ValueError, match="n_obs=4"):
        USE(rng, five, T.as_tensor_variable(numpy.zeros((2, 5, N_ACT))), 4, N_ACT, N_HIDDEN)


@pytest.fixture(scope="module")
def training_step():
    """(f, use): the cost and its gradients of a deep USE with sigmoid outputs, where
    mismatched sequences once died in the engine's broadcasting assertions."""
    use = use64(numpy.random.RandomState(5), "sigmoid")
    cost = use.loss()
    return function([use.obs, use.act], [cost] + grad(cost, flatten(use.params))), use


@pytest.mark.parametrize("case, message", [
    ("act two steps short", "act must have as many timesteps as obs"),
    ("act longer", "act must have as many timesteps as obs"),
    ("fewer actions", "same number of examples"),
    ("fewer observations", "same number of examples"),
    ("act too wide", r"act must be \(n_examples, n_timesteps, n_act=2\)"),
    ("obs too narrow", r"obs must be \(n_examples, n_timesteps, n_obs=3\)"),
])
def test_sequences_that_disagree_fail_with_dls_error_when_run(rng, training_step, case, message):
    f, _ = training_step
    obs, act = walks(rng, n_examples=3, n_steps=6)
    obs, act = {"act two steps short": (obs, act[:, :4]), "act longer": (obs[:, :4], act),
                "fewer actions": (obs, act[:2]), "fewer observations": (obs[:2], act),
                "act too wide": (obs, numpy.concatenate([act, act[..., :1]], axis=-1)),
                "obs too narrow": (obs[..., :2], act)}[case]
    with pytest.raises(ValueError, match=message):
        f(obs, act)


def test_the_original_layout_t_plus_one_observations_and_t_actions(rng, training_step):
    """obs with T + 1 steps and act with T train on the same loss and gradients as
    DL's layout with any last action: the last action predicts nothing."""
    f, use = training_step
    obs, act = walks(rng, n_examples=3, n_steps=6)
    original = f(obs, act[:, :-1])
    for last in (act, act[:, ::-1]):
        dl_layout = f(obs, numpy.concatenate([act[:, :-1], last[:, -1:]], axis=1))
        for got, expected in zip(original, dl_layout):
            assert_allclose(got, expected, rtol=1e-12)
    output = function([use.obs, use.act], use.output_deterministic)(obs, act[:, :-1])
    assert output.shape == (3, 6, N_OBS)  # one prediction per observation, the last without target


# --- learning ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_use_learns_the_1d_map(rng):
    """After a few seconds of training the next cell is predicted on nearly every step
    (seeds 1234, 1, 2 reach 0 % validation error by epoch 7)."""
    sets = seeded_sets(map1d, sizes=(200, 50, 50), seed=0, n_obs=5, n_steps=10)
    o, a = T.tensor3("o"), T.tensor3("a")
    use = USE(rng, o, a, n_obs=5, n_act=2, n_hidden=20)
    result = optimize(dataset=load_data(sets), inputs=[o, a], cost=use.loss(), params=flatten(use.params),
                      errors=use.errors(), optimizer="adam", learning_rate=0.02, n_epochs=20,
                      batch_size=20, progress=False, verbose=False)
    assert result.test_loss <= 0.02, "test error %.3f after %d epochs" % (result.test_loss, result.epochs)
