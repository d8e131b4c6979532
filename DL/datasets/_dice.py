"""Which die is this?  Interactive object recognition with dice (after ccorcos's
interactive-object-recognition project).

Each die carries the symbols 0..5 on its six faces, in a different arrangement:
no die is a rotation of another, but all look alike from any one face.  The
agent holds one die in an unknown orientation, sees the symbol on top, and
rolls the die a quarter turn north, south, east or west, revealing another
face.  The label of every step is which die it holds; after a few rolls the
arrangement of symbols seen tells the dice apart.

    dice(n_dice=3, n_steps=9, n_examples=100, seed=0, encoding="onehot", faces=None)
        -> (obs, act, labels)

    obs     (n_examples, n_steps, 6) one-hot top symbols (encoding="ids": (n_examples, n_steps) int32)
    act     (n_examples, n_steps, 4) one-hot rolls: north, south, east, west
    labels  (n_examples, n_steps)    int32, the die (the same at every step)

a_t is the roll after observing o_t (n_steps = 9 holds 8 rolls).  Die, starting
orientation (one of 24) and rolls are drawn uniformly.  The dice are the first
`n_dice` of DICE (the original project's set, then further arrangements), or
`faces`: one row of six symbols per die (e.g. DICE_BY_PAIRS, an easier set).
Faces are listed by position: top, bottom, north, south, east, west.

`bayes_posterior(faces, obs, act)` is the exact posterior over dice after each
step (a filter over die and orientation); its accuracy is the best any
estimator can reach on the task.
"""
import itertools

import numpy

from DL.backend import floatX
from DL.datasets._map1d import check_count, check_encoding, encode

N_FACES = 6
ROLLS = ("north", "south", "east", "west")
# new_pose[position] = pose[_ROLL_SOURCE[roll][position]]; positions top, bottom, north, south, east, west
_ROLL_SOURCE = numpy.array([[3, 2, 0, 1, 4, 5],   # north: the top goes north, the south face comes up
                            [2, 3, 1, 0, 4, 5],   # south
                            [5, 4, 2, 3, 0, 1],   # east: the top goes east, the west face comes up
                            [4, 5, 2, 3, 1, 0]])  # west


def _orientations():
    """The 24 poses of a cube: which face is at each position, reached by rolls from the identity."""
    found, frontier = {tuple(range(N_FACES))}, [tuple(range(N_FACES))]
    while frontier:
        pose = numpy.array(frontier.pop())
        for source in _ROLL_SOURCE:
            turned = tuple(pose[source])
            if turned not in found:
                found.add(turned)
                frontier.append(turned)
    return numpy.array(sorted(found))


ORIENTATIONS = _orientations()                      # (24, 6)
_POSE_INDEX = {tuple(pose): i for i, pose in enumerate(ORIENTATIONS)}
# _NEXT_POSE[roll, pose] = the pose after that roll
_NEXT_POSE = numpy.array([[_POSE_INDEX[tuple(pose[source])] for pose in ORIENTATIONS]
                          for source in _ROLL_SOURCE])


def _distinct_arrangements(first):
    """Arrangements of the six symbols, none a rotation of another, `first` ones first."""
    chosen, seen = [], set()
    for faces in list(first) + list(itertools.permutations(range(N_FACES))):
        faces = tuple(faces)
        if faces not in seen:
            chosen.append(faces)
            seen.update(tuple(numpy.array(faces)[pose]) for pose in ORIENTATIONS)
    return numpy.array(chosen)


# The original project's set1 (d, dMirror, dBack, d35Side, d36Side), symbols 1..6 -> 0..5, then
# every other arrangement: 30 dice in all, the number of ways to label a cube up to rotation.
DICE = _distinct_arrangements([[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 5, 4], [0, 5, 2, 3, 4, 1],
                               [0, 1, 2, 4, 3, 5], [0, 1, 2, 5, 3, 4]])


# Three dice whose opposite faces pair the symbols differently: (0 1)(2 3)(4 5), (0 2)(1 4)(3 5),
# (0 4)(1 5)(2 3).  Two symbols seen one after the other are neighbours, so each such pair can
# rule a die out whatever the direction of the rolls: an easier task than DICE, whose first
# two are mirror images told apart only by the directions.
DICE_BY_PAIRS = numpy.array([[0, 1, 2, 3, 4, 5], [0, 2, 1, 4, 3, 5], [0, 4, 1, 5, 2, 3]])


def check_faces(faces, n_dice):
    if faces is None:
        n_dice = check_count(n_dice, "n_dice", 2)
        if n_dice > len(DICE):
            raise ValueError("n_dice must be at most %d (the distinct dice of six symbols), got %d"
                             % (len(DICE), n_dice))
        return DICE[:n_dice]
    faces = numpy.asarray(faces)
    if faces.ndim != 2 or faces.shape[1] != N_FACES or len(faces) < 2 \
            or not numpy.issubdtype(faces.dtype, numpy.integer) or faces.min() < 0:
        raise ValueError("faces must be (n_dice >= 2, 6) symbol ids >= 0, one row per die "
                         "(top, bottom, north, south, east, west), got %r" % (faces,))
    return faces


def dice(n_dice=3, n_steps=9, n_examples=100, seed=0, encoding="onehot", faces=None):
    """(obs, act, labels) of `n_examples` sequences of `n_steps` views of a die; see the module."""
    faces = check_faces(faces, n_dice)
    n_steps = check_count(n_steps, "n_steps", 1)
    n_examples = check_count(n_examples, "n_examples", 1)
    encoding = check_encoding(encoding)
    rng = numpy.random.RandomState(seed)
    which = rng.randint(len(faces), size=n_examples)
    pose = rng.randint(len(ORIENTATIONS), size=n_examples)
    rolls = rng.randint(len(ROLLS), size=(n_examples, n_steps))
    tops = numpy.empty((n_examples, n_steps), dtype="int64")
    for t in range(n_steps):
        tops[:, t] = faces[which, ORIENTATIONS[pose, 0]]
        pose = _NEXT_POSE[rolls[:, t], pose]
    labels = numpy.repeat(which[:, None], n_steps, axis=1).astype("int32")
    obs = encode(tops, int(faces.max()) + 1, encoding)
    return obs, numpy.eye(len(ROLLS), dtype=floatX)[rolls], labels


def bayes_posterior(faces, obs_ids, act):
    """p(die | o_0..o_t, a_0..a_{t-1}) for each step: `(n_examples, n_steps, n_dice)`.

    obs_ids `(n, T)` symbol ids; act `(n, T, 4)` one-hot rolls (or `(n, T)` roll ids).
    Every die and orientation starts equally likely."""
    faces = numpy.asarray(faces)
    obs_ids = numpy.asarray(obs_ids)
    rolls = numpy.asarray(act).argmax(-1) if numpy.ndim(act) == 3 else numpy.asarray(act)
    tops = faces[:, ORIENTATIONS[:, 0]]                        # (n_dice, 24) symbol on top
    belief = numpy.ones((len(obs_ids), len(faces), len(ORIENTATIONS)))
    posterior = numpy.empty((len(obs_ids), obs_ids.shape[1], len(faces)))
    for t in range(obs_ids.shape[1]):
        belief *= tops[None] == obs_ids[:, t, None, None]
        belief /= belief.sum(axis=(1, 2), keepdims=True)
        posterior[:, t] = belief.sum(axis=2)
        moved = numpy.zeros_like(belief)
        for roll in range(len(ROLLS)):
            chosen = rolls[:, t] == roll
            moved[numpy.ix_(chosen, numpy.arange(len(faces)), _NEXT_POSE[roll])] = belief[chosen]
        belief = moved
    return posterior
