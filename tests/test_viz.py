"""DL.viz: sparkprob rows, training curves and t-SNE maps, and the examples that draw them.

Pictures are checked as files: a PNG signature, an IHDR chunk whose width and
height are figsize * dpi, and pixels that are not all one colour.  The t-SNE
map must keep three well-separated Gaussian clusters apart: every point's
nearest neighbours in the 2-D map share its label, and the cluster centres lie
far apart relative to each cluster's spread.
"""
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy
import pytest

from DL import viz
from DL.backend import T, shared
from DL.models.LogisticRegression import LogisticRegression
from DL.optimizers.training import optimize
from DL.utils import flatten
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

REPO = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from a PNG's IHDR chunk; fails on anything that is not a PNG."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, "%s is not a PNG" % path
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(data[12:29]), "the IHDR chunk of %s is corrupt" % path
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND", "%s is truncated (no IEND chunk)" % path
    return width, height


def assert_picture(path, figsize, dpi):
    """A non-empty PNG of figsize * dpi pixels with more than one colour in it."""
    assert os.path.getsize(path) > 1000
    assert png_size(path) == (round(figsize[0] * dpi), round(figsize[1] * dpi))
    from matplotlib.image import imread
    pixels = imread(path)
    assert pixels.reshape(-1, pixels.shape[-1]).std(axis=0).max() > 0.01, "the picture is blank"


# --- sparkprob rows -----------------------------------------------------------

def test_spark_maps_probabilities_to_bar_heights():
    # sparkprob's 7 levels: ' ' for 0 up to '▇' for 1, one character per entry
    assert viz.spark([0.0, 1 / 6, 0.5, 1.0]) == "  ▁ ▃ ▇"
    row = viz.spark(numpy.linspace(0, 1, 13, dtype="float32"))
    assert isinstance(row, str) and len(row) == 2 * 13 - 1
    assert set(row[0::2]) <= set(viz.SPARK_CHARS) and set(row[1::2]) == {" "}
    assert row[0::2] == "".join(sorted(row[0::2], key=viz.SPARK_CHARS.index))  # heights never fall


def test_spark_tolerates_float_rounding_only():
    assert viz.spark([1.00000003, -1e-8]) == "▇  "
    for bad in ([0.2, 1.5], [-0.1], [numpy.nan], [], [[0.5, 0.5]], ["high"]):
        with pytest.raises(ValueError, match="probabilities"):
            viz.spark(bad)


def test_prediction_row_sets_observation_beside_prediction():
    row = viz.prediction_row([0, 1, 0], numpy.float32([0.1, 0.8, 0.1]), action=2)
    assert row == "observed   ▇   | predicted ▁ ▆ ▁ | action 2"
    assert viz.prediction_row([1, 0], [0.5, 0.5]) == "observed ▇   | predicted ▃ ▃"
    assert viz.prediction_row([1, 0], [1, 0], action=[0, 1, 0]).endswith("| action   ▇  ")


def test_prediction_row_names_the_bad_argument():
    with pytest.raises(ValueError, match="same length"):
        viz.prediction_row([0, 1], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="predicted must hold probabilities"):
        viz.prediction_row([0, 1], [2.0, -1.0])
    with pytest.raises(ValueError, match="observed"):
        viz.prediction_row([[0, 1]], [0.5, 0.5])


# --- training curves ----------------------------------------------------------

@pytest.fixture(scope="module")
def real_history():
    """The history of a real optimize() run: 3 minibatches an epoch, validated every 2."""
    rng = numpy.random.RandomState(0)
    inputs = rng.randn(90, 4).astype("float32")
    targets = (inputs[:, 0] > 0).astype("int32")
    sets = [[shared(inputs[i:i + 30]), shared(targets[i:i + 30])] for i in (0, 30, 60)]
    x, t = T.matrix("x"), T.ivector("t")
    model = LogisticRegression(rng=rng, input=x, n_in=4, n_out=2)
    result = optimize(dataset=sets, inputs=[x, t], cost=model.loss(t), params=flatten(model.params),
                      errors=model.errors(t), n_epochs=4, batch_size=10, validation_frequency=2,
                      optimizer="sgd", learning_rate=0.5, progress=False, verbose=False)
    return result.history


def test_epoch_axis_is_fractional_epochs(real_history):
    x, label = viz.epoch_axis(real_history)
    assert label == "epoch"
    assert numpy.allclose(x, [2 / 3, 4 / 3, 2, 8 / 3, 10 / 3, 4])


def test_epoch_axis_without_a_second_epoch():
    one_per_epoch = [{"epoch": 1, "iteration": 5, "minibatch": 5, "train_cost": 1.0, "valid_error": 0.5}]
    assert viz.epoch_axis(one_per_epoch) == ([1.0], "epoch")
    within_epoch_one = [dict(one_per_epoch[0], iteration=i, minibatch=i) for i in (2, 4)]
    x, label = viz.epoch_axis(within_epoch_one)
    assert list(x) == [2, 4] and label.startswith("minibatches")


def test_plot_history_writes_a_png_of_the_asked_size(real_history, tmp_path):
    path = tmp_path / "history.png"
    assert viz.plot_history(real_history, path, figsize=(5, 3.5), dpi=80) == str(path)
    assert_picture(path, (5, 3.5), 80)


@pytest.mark.parametrize("metric, scale, label", [
    ("error rate", 100, "error rate (%)"), ("mse", 1, "mse"), ("bits per character", 1, "bits per character"),
    (None, 100, "error rate (%)"),  # a history from before the records named their metric
])
def test_plot_history_draws_each_metric_in_its_own_unit(metric, scale, label):
    records = [{"epoch": e, "iteration": 3 * e, "minibatch": 3, "train_cost": 1.0 / e, "valid_error": v,
                "test_error": v / 2} for e, v in ((1, 0.5), (2, 0.25))]
    if metric is not None:
        records = [dict(record, metric=metric) for record in records]
    _, metric_axes = viz.history_figure(records).axes
    assert metric_axes.get_ylabel() == label
    validation, test = metric_axes.get_lines()
    assert list(validation.get_ydata()) == [scale * 0.5, scale * 0.25]
    assert list(test.get_ydata()) == [scale * 0.25, scale * 0.125]


def test_plot_history_rejects_what_it_cannot_draw(real_history, tmp_path):
    with pytest.raises(ValueError, match="history is empty"):
        viz.plot_history([], tmp_path / "h.png")
    with pytest.raises(ValueError, match=r"history\[0\] lacks .*valid_error"):
        viz.plot_history([{"epoch": 1, "iteration": 1, "minibatch": 1, "train_cost": 1}], tmp_path / "h.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.plot_history(real_history, tmp_path / "missing" / "h.png")
    with pytest.raises(ValueError, match=r"\.png"):
        viz.plot_history(real_history, tmp_path / "h.pdf")
    assert os.listdir(tmp_path) == []


def test_drawing_leaves_pyplot_alone(tmp_path):
    """DL.viz draws on its own Agg canvas: a user's pyplot and its backend are untouched."""
    code = ("import sys, DL.viz as v; v.plot_history([{'epoch': 1, 'iteration': 1, 'minibatch': 1, "
            "'train_cost': 1.0, 'valid_error': 0.5, 'test_error': 0.4}], 'h.png'); "
            "print('matplotlib.pyplot' in sys.modules)")
    env = dict(os.environ, MPLBACKEND="")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=HANG)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    png_size(tmp_path / "h.png")


# --- convolution filters --------------------------------------------------------

def test_filter_tiles_lays_the_filters_out_row_by_row_each_in_its_own_range():
    W = numpy.arange(5 * 3 * 2, dtype="float64").reshape(5, 1, 3, 2) ** 2  # 5 filters of 3 x 2
    W[4] = 7.0                                                            # a constant filter
    tiles = viz.filter_tiles(W, columns=3)
    assert tiles.shape == (2 * 3 + 1, 3 * 2 + 2)  # 2 rows, 3 columns, 1-pixel gaps
    for i in range(4):
        top, left = (i // 3) * 4, (i % 3) * 3
        tile = tiles[top:top + 3, left:left + 2]
        expected = (W[i, 0] - W[i, 0].min()) / (W[i, 0].max() - W[i, 0].min())
        assert numpy.allclose(tile, expected)
    assert numpy.all(tiles[4:7, 3:5] == 0.5)                      # constant: mid grey
    assert numpy.all(tiles[3, :] == 1) and numpy.all(tiles[:, 2] == 1)  # the gaps are white
    assert numpy.all(tiles[4:7, 6:8] == 1)                        # the sixth place is empty
    assert viz.filter_tiles(W).shape == (2 * 3 + 1, 3 * 2 + 2)    # ceil(sqrt(5)) = 3 columns


def test_filter_tiles_draws_three_channels_as_colour():
    W = numpy.random.RandomState(0).randn(4, 3, 5, 5)
    tiles = viz.filter_tiles(W, gap=0)
    assert tiles.shape == (10, 10, 3)
    assert numpy.allclose(tiles[:5, 5:], (W[1] - W[1].min()).transpose(1, 2, 0) / (W[1].max() - W[1].min()))


def test_filter_grid_writes_a_png_of_a_layers_filters(tmp_path):
    from DL.models.ConvLayer import ConvLayer
    layer = ConvLayer(numpy.random.RandomState(0), None, 1, 20, 5)
    path = tmp_path / "filters.png"
    assert viz.filter_grid(layer.W, path, columns=10) == str(path)
    assert_picture(path, (5.0, 1.0), 100)  # half an inch a filter, 10 x 2
    assert [name for name in os.listdir(tmp_path)] == ["filters.png"]  # no temporary left
    figure = viz.filter_grid(layer.W.get_value(), title="filters")
    assert figure.axes[0].get_title() == "filters" and figure.axes[0].images[0].get_array().shape == (23, 29)  # 5 x 4


def test_filter_grid_rejects_what_is_not_a_stack_of_image_filters(tmp_path):
    with pytest.raises(ValueError, match=r"4-D filters \(n_out, n_in, height, width\).*\(20, 25\)"):
        viz.filter_grid(numpy.zeros((20, 25)), tmp_path / "f.png")
    with pytest.raises(ValueError, match=r"1 channel \(gray\) or 3 \(RGB\).*W\[:, :1\]"):
        viz.filter_grid(numpy.zeros((4, 2, 3, 3)), tmp_path / "f.png")
    with pytest.raises(ValueError, match="NaN"):
        viz.filter_grid(numpy.full((4, 1, 3, 3), numpy.nan), tmp_path / "f.png")
    with pytest.raises(ValueError, match="columns"):
        viz.filter_grid(numpy.zeros((4, 1, 3, 3)), tmp_path / "f.png", columns=0)
    with pytest.raises(ValueError, match=".png"):
        viz.filter_grid(numpy.zeros((4, 1, 3, 3)), tmp_path / "f.jpg")
    assert os.listdir(tmp_path) == []


# --- embedding maps -----------------------------------------------------------

@pytest.fixture(scope="module")
def blobs():
    """Three Gaussian clusters in 20-D, centres 10 apart, unit spread: (vectors, labels)."""
    rng = numpy.random.RandomState(0)
    centres = 10 * numpy.eye(3, 20)
    labels = numpy.repeat([0, 1, 2], 30)
    rng.shuffle(labels)
    return centres[labels] + rng.randn(90, 20), labels


def test_embedding_map_keeps_separated_clusters_apart(blobs, tmp_path):
    vectors, labels = blobs
    path = tmp_path / "map.png"
    points = viz.embedding_map(vectors, labels, path, figsize=(4, 3), dpi=50, max_iter=300)
    assert points.shape == (90, 2)
    assert viz.neighbour_agreement(points, labels, k=10) == 1.0
    centres = numpy.array([points[labels == c].mean(axis=0) for c in range(3)])
    spread = max(numpy.linalg.norm(points[labels == c] - centres[c], axis=1).max() for c in range(3))
    gaps = [numpy.linalg.norm(centres[a] - centres[b]) for a, b in ((0, 1), (0, 2), (1, 2))]
    assert min(gaps) > 2 * spread
    assert_picture(path, (4, 3), 50)


def test_embedding_map_is_seeded(blobs, tmp_path):
    vectors, labels = blobs
    first = viz.tsne(vectors[:30], seed=3, max_iter=250)
    again = viz.tsne(vectors[:30], seed=3, max_iter=250)
    assert numpy.allclose(first, again)


def test_embedding_map_writes_words(blobs, tmp_path):
    vectors, labels = blobs
    words = numpy.array(["word%d" % i for i in range(12)])
    path = tmp_path / "words.png"
    points = viz.embedding_map(shared(vectors[:12].astype("float32")), words, path,
                               figsize=(3, 3), dpi=60, max_iter=250)
    assert points.shape == (12, 2)
    assert_picture(path, (3, 3), 60)


def test_neighbour_agreement_tells_pure_from_mixed():
    points = numpy.array([[0, 0], [0, 1], [10, 0], [10, 1]])
    assert viz.neighbour_agreement(points, [0, 0, 1, 1], k=1) == 1.0
    assert viz.neighbour_agreement(points, [0, 1, 0, 1], k=1) == 0.0
    with pytest.raises(ValueError, match="k must be"):
        viz.neighbour_agreement(points, [0, 0, 1, 1], k=4)


def test_embedding_map_rejects_bad_input(blobs, tmp_path):
    vectors, labels = blobs
    with pytest.raises(ValueError, match=r"2-D \(n_points, n_dims\)"):
        viz.embedding_map(vectors[0], None, tmp_path / "m.png")
    with pytest.raises(ValueError, match="at least 3"):
        viz.embedding_map(vectors[:2], None, tmp_path / "m.png")
    with pytest.raises(ValueError, match="one label per vector"):
        viz.embedding_map(vectors, labels[:5], tmp_path / "m.png")
    with pytest.raises(ValueError, match="NaN"):
        viz.embedding_map(numpy.full((5, 2), numpy.nan), None, tmp_path / "m.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.embedding_map(vectors, labels, tmp_path / "no" / "m.png")
    with pytest.raises(ValueError, match="perplexity"):
        viz.tsne(vectors, perplexity=0)


def test_embedding_map_colours_words_by_value(blobs, tmp_path):
    vectors, labels = blobs
    words = ["w%d" % i for i in range(20)]
    path = tmp_path / "valued.png"
    viz.embedding_map(vectors[:20], words, path, values=numpy.linspace(0, 1, 20), value_range=(0, 1),
                      value_label="p(positive)", figsize=(4, 4), dpi=50, max_iter=250)
    assert_picture(path, (4, 4), 50)
    with pytest.raises(ValueError, match="one finite number per vector"):
        viz.embedding_map(vectors[:20], words, path, values=[0.5] * 19)
    with pytest.raises(ValueError, match="pass one of them"):
        viz.embedding_map(vectors, labels, path, values=numpy.zeros(len(labels)))


# --- the examples that draw -----------------------------------------------------

def run_example(name, *flags, cwd):
    """Run examples/NAME.py in `cwd` as a user would; its stdout (it must exit 0)."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    completed = subprocess.run([sys.executable, str(REPO / "examples" / (name + ".py"))] + list(flags),
                               cwd=cwd, env=env, capture_output=True, text=True, timeout=HANG)
    assert completed.returncode == 0, "%s exited %d:\n%s" % (name, completed.returncode,
                                                            completed.stderr[-3000:])
    return completed.stdout


def printed_percent(stdout, start):
    line = next(line for line in stdout.splitlines() if line.startswith(start))
    return float(line.split(":")[-1].strip().rstrip("%"))


@pytest.mark.slow
def test_tsne_mnist_example_maps_the_hidden_layer(tmp_path):
    stdout = run_example("tsne-mnist", "--epochs", "1", "--subset", "500", "--points", "100",
                         "--n-hidden", "50", "--out", "map.png", "--plot", "history.png", cwd=tmp_path)
    assert_picture(tmp_path / "map.png", (7, 6), 100)
    assert_picture(tmp_path / "history.png", (6.4, 4.8), 100)
    for space in ("pixels", "hidden layer", "t-SNE map"):
        assert 10 < printed_percent(stdout, "5 nearest neighbours with the same digit, " + space) <= 100
    assert printed_percent(stdout, "test error") < 60  # chance is 90 %: it learned something


@pytest.mark.slow
def test_tsne_imdb_example_maps_word_embeddings(tmp_path):
    stdout = run_example("tsne-imdb", "--epochs", "1", "--subset", "40", "--words", "20",
                         "--n-units", "8", "--vocabulary-size", "300", "--batch-size", "8",
                         "--out", "words.png", cwd=tmp_path)
    assert_picture(tmp_path / "words.png", (9, 8), 100)
    mapped = set()
    for start in ("most negative words alone:", "most positive words alone:"):
        mapped |= set(next(l for l in stdout.splitlines() if l.startswith(start)).split(":")[1].split())
    assert {"the", "and", "a", "of"} <= mapped  # the 20 most frequent ids, read through imdb.dict


# --- the guide ----------------------------------------------------------------

@pytest.mark.slow
def test_the_guides_examples_run(capsys):
    """DL.md's Python blocks (sections 2 and 4) run in order and print what the guide says."""
    import re
    text = (REPO / "DL.md").read_text()
    start, end = text.index("## 2. How the pieces compose"), text.index("## 5. Looking at")
    own_loop = re.compile(r"### Writing your own loop.*?(?=\n##)", re.S)  # run by tests/test_loop.py
    blocks = re.findall(r"```python\n(.*?)```", own_loop.sub("", text[start:end]), re.S)
    assert len(blocks) == 4
    namespace = {"__name__": "DL_md"}
    for block in blocks:
        exec(compile(block, "DL.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "test error: 0.0 %" in printed                   # the MLP solves XOR, as the guide says
    assert "[0 1 1 0]" in printed
    assert "test error after 5 more epochs: 0.0 %" in printed
    residual = float(re.search(r"residual net, test error: ([0-9.]+) %", printed).group(1))
    assert residual < 10                                    # chance is 50 %
