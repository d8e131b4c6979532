"""The synthetic tasks: the 1-D map and the dice.  Seeded, shaped as documented, and
solvable as claimed (the map's next cell follows from the actions; the exact Bayes
filter names the die after 8 rolls at least 95 % of the time).
"""
import numpy
import pytest
from numpy.testing import assert_array_equal, assert_allclose

from DL.datasets import bayes_posterior, dice, map1d, seeded_sets
from DL.datasets._dice import DICE, ORIENTATIONS, ROLLS, _NEXT_POSE, _ROLL_SOURCE


# --- the 1-D map -----------------------------------------------------------------------------

def test_map1d_shapes_and_the_walls():
    obs, act = map1d(n_obs=5, n_steps=30, n_examples=200, seed=3)
    assert obs.shape == (200, 30, 5) and act.shape == (200, 30, 2)
    assert obs.dtype == act.dtype == numpy.float32
    assert_array_equal(obs.sum(-1), 1)
    assert_array_equal(act.sum(-1), 1)
    cells, steps = obs.argmax(-1), act.argmax(-1) * 2 - 1  # left -1, right +1
    assert_array_equal(cells[:, 1:], numpy.clip(cells[:, :-1] + steps[:, :-1], 0, 4))
    # the walls are reached and hold
    assert ((cells[:, :-1] == 0) & (steps[:, :-1] == -1)).any() and ((cells[:, :-1] == 4) & (steps[:, :-1] == 1)).any()


def test_map1d_encodings_hold_the_same_cells():
    onehot, act = map1d(n_obs=5, n_steps=8, n_examples=20, seed=1)
    binary, act_binary = map1d(n_obs=5, n_steps=8, n_examples=20, seed=1, encoding="binary")
    ids, _ = map1d(n_obs=5, n_steps=8, n_examples=20, seed=1, encoding="ids")
    assert binary.shape == (20, 8, 3) and ids.shape == (20, 8) and ids.dtype == numpy.int32
    assert_array_equal(ids, onehot.argmax(-1))
    assert_array_equal(binary @ numpy.array([4, 2, 1]), ids)
    assert_array_equal(act, act_binary)


def test_map1d_is_seeded():
    assert_array_equal(map1d(seed=7)[0], map1d(seed=7)[0])
    assert not numpy.array_equal(map1d(seed=7)[0], map1d(seed=8)[0])


def test_seeded_sets_make_three_different_sets():
    train, valid, test = seeded_sets(map1d, sizes=(6, 4, 2), seed=0, n_steps=5)
    assert [len(s[0]) for s in (train, valid, test)] == [6, 4, 2]
    assert not numpy.array_equal(train[0][:2], test[0])


@pytest.mark.parametrize("options, message", [
    (dict(n_obs=1), "n_obs"), (dict(n_steps=1), "n_steps"), (dict(n_examples=0), "n_examples"),
    (dict(encoding="bits"), "encoding must be one of onehot, binary, ids")])
def test_map1d_refuses_bad_arguments(options, message):
    with pytest.raises(ValueError, match=message):
        map1d(**options)


# --- the dice --------------------------------------------------------------------------------

def test_rolls_are_rotations_of_the_cube():
    assert len(ORIENTATIONS) == 24  # every pose of a cube, reached by rolls
    identity = numpy.arange(6)
    north, south, east, west = _ROLL_SOURCE
    assert_array_equal(identity[north][south], identity)
    assert_array_equal(identity[east][west], identity)
    four = identity
    for _ in range(4):
        four = four[north]
    assert_array_equal(four, identity)
    # opposite faces stay opposite: (top, bottom), (north, south), (east, west)
    for pose in ORIENTATIONS:
        assert sorted([sorted(pose[[0, 1]]), sorted(pose[[2, 3]]), sorted(pose[[4, 5]])]) == [[0, 1], [2, 3], [4, 5]]
    assert _NEXT_POSE.shape == (len(ROLLS), 24)


def test_the_dice_are_distinct_up_to_rotation():
    assert len(DICE) == 30  # 6! labellings / 24 rotations
    poses = {tuple(die[pose]) for die in DICE for pose in ORIENTATIONS}
    assert len(poses) == 720
    assert_array_equal(DICE[0], numpy.arange(6))


def test_dice_observations_follow_the_rolls():
    obs, act, labels = dice(n_dice=3, n_steps=9, n_examples=50, seed=2, encoding="ids")
    assert obs.shape == labels.shape == (50, 9) and act.shape == (50, 9, 4)
    assert (labels == labels[:, :1]).all() and set(numpy.unique(labels)) == {0, 1, 2}
    rolls = act.argmax(-1)
    for o, r, die in zip(obs, rolls, labels[:, 0]):
        # some starting pose explains every top face seen
        explained = []
        for pose in range(24):
            tops, p = [], pose
            for t in range(9):
                tops.append(DICE[die][ORIENTATIONS[p][0]])
                p = _NEXT_POSE[r[t], p]
            explained.append(tops == list(o))
        assert any(explained)


def test_dice_onehot_matches_ids_and_is_seeded():
    onehot, act, labels = dice(n_dice=4, n_examples=10, seed=5)
    ids, act_ids, labels_ids = dice(n_dice=4, n_examples=10, seed=5, encoding="ids")
    assert onehot.shape == (10, 9, 6)
    assert_array_equal(onehot.argmax(-1), ids)
    assert_array_equal(act, act_ids)
    assert_array_equal(labels, labels_ids)


def test_bayes_filter_starts_at_chance_and_names_the_die_after_eight_rolls():
    obs, act, labels = dice(n_dice=3, n_steps=9, n_examples=2000, seed=0, encoding="ids")
    posterior = bayes_posterior(DICE[:3], obs, act)
    assert_allclose(posterior.sum(-1), 1)
    assert_allclose(posterior[:, 0], 1 / 3)  # every die shows every symbol
    accuracy = (posterior.argmax(-1) == labels).mean(axis=0)
    assert accuracy[-1] >= 0.95
    assert numpy.all(numpy.diff(accuracy[1:]) > -0.02)  # more rolls, more knowledge
    # the true die is never ruled out
    assert (numpy.take_along_axis(posterior, labels[..., None], -1) > 0).all()


@pytest.mark.parametrize("options, message", [
    (dict(n_dice=1), "n_dice"), (dict(n_dice=31), "at most 30"),
    (dict(faces=[[0, 1, 2]]), "faces must be"), (dict(encoding="binary!"), "encoding")])
def test_dice_refuses_bad_arguments(options, message):
    with pytest.raises(ValueError, match=message):
        dice(**options)
