"""Pictures of what a model learned: sparkprob rows, training curves, embedding maps.

Each view is a plain function:

    spark(probabilities)                       -> '▁ ▃ ▇ ▁'   one character per entry
    prediction_row(observed, predicted, action) -> 'observed ▁ ▇ ▁ | predicted ▁ ▆ ▁ | action 2'
    plot_history(result.history, 'history.png')  training cost, validation and test error per epoch
    plot_curves({label: [history, ...]}, 'curves.png')  validation curves of many runs, mean over seeds
    embedding_map(vectors, labels, 'map.png')    2-D t-SNE of learned vectors, coloured by label
    filter_grid(conv.W, 'filters.png')           a convolutional layer's filters, one small image each
    neighbour_agreement(points, labels, k)       how often a point's neighbours share its label

The sparkprob rows are text, for a terminal: a state estimator's predicted
distribution beside the observation that came.  The pictures are PNG files
drawn with matplotlib's Agg canvas directly (not pyplot), so they need no
display and leave a user's interactive backend alone.
"""
import numbers
import os

import numpy

# sparkprob 0.1 (2014) returns UTF-8 bytes in Python 3; we decode them.
from sparkprob.sparkprob import sparkprob as _sparkprob, spark_chars as SPARK_CHARS

# Probabilities may overshoot [0, 1] by rounding (float32 softmax sums to 1 +- 1e-7).
_TOLERANCE = 1e-4


# --- sparkprob rows -------------------------------------------------------------

def _probabilities(values, name):
    """`values` as a 1-D float array in [0, 1], or a clear error."""
    try:
        array = numpy.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError("%s must be a 1-D sequence of probabilities, got %r" % (name, values)) from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError("%s must be a non-empty 1-D sequence of probabilities, got shape %s"
                         % (name, array.shape))
    if not numpy.all(numpy.isfinite(array)):
        raise ValueError("%s holds NaN or infinite values: %s" % (name, array))
    if array.min() < -_TOLERANCE or array.max() > 1 + _TOLERANCE:
        raise ValueError("%s must hold probabilities in [0, 1], got values from %g to %g"
                         % (name, array.min(), array.max()))
    return numpy.clip(array, 0.0, 1.0)


def spark(probabilities, name="probabilities"):
    """One sparkprob character per probability, separated by spaces.

    `spark([0, 0.5, 1])` is `'  ▃ ▇'`: the height of a bar says how likely the
    entry is (blank for 0, '▇' for 1; 7 levels).  The row of n entries is 2n - 1
    characters long."""
    return _sparkprob(_probabilities(probabilities, name)).decode("utf-8")


def _action_text(action):
    """An action as text: a one-hot or distribution vector as a spark row, else its value."""
    if isinstance(action, (numbers.Number, str)):
        return str(action)
    array = numpy.asarray(action)
    if array.ndim == 0:
        return str(array.item())
    return spark(array, name="action")


def prediction_row(observed, predicted, action=None):
    """One line: the observed distribution beside the predicted one (and the action).

        prediction_row([0, 1, 0], [0.1, 0.8, 0.1], action=2)
        'observed   ▇   | predicted ▁ ▆ ▁ | action 2'

    `observed` is usually a one-hot observation and `predicted` the model's
    softmax for it; both are 1-D, of the same length, with entries in [0, 1].
    `action` is a number, a string, or a one-hot/distribution vector."""
    observed_row = spark(observed, name="observed")
    predicted_row = spark(predicted, name="predicted")
    if len(observed_row) != len(predicted_row):
        raise ValueError("observed and predicted must have the same length, got %d and %d"
                         % (len(numpy.ravel(observed)), len(numpy.ravel(predicted))))
    row = "observed %s | predicted %s" % (observed_row, predicted_row)
    if action is not None:
        row += " | action %s" % _action_text(action)
    return row


# --- PNG files ------------------------------------------------------------------

def _png_path(path):
    """`path` as a string ending in .png whose folder exists, or a clear error."""
    path = os.fspath(path)
    if not path.lower().endswith(".png"):
        raise ValueError("path must name a .png file, got %r" % path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError("cannot write %s: the folder %s does not exist; create it first "
                                "(os.makedirs)" % (path, folder))
    return path


def _figure(figsize, dpi):
    """A matplotlib Figure on its own Agg canvas: no pyplot, no display, no global state."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path):
    """Write the figure as PNG at exactly figsize * dpi pixels (no tight cropping),
    atomically: a crash mid-write leaves the old picture or the new one, never half."""
    from DL.durable import atomic_write
    with atomic_write(path) as stream:
        figure.savefig(stream, format="png", dpi=figure.dpi)
    return path


# --- training curves ------------------------------------------------------------

_HISTORY_KEYS = ("epoch", "iteration", "minibatch", "train_cost", "valid_error")


def _records(history):
    """The list of validation records of `optimize()`'s history (or of its result)."""
    history = getattr(history, "history", history)
    if not isinstance(history, (list, tuple)):
        raise TypeError("history must be the list of dicts optimize() keeps (result.history), got %s"
                        % type(history).__name__)
    if not history:
        raise ValueError("history is empty: training stopped before its first validation "
                         "(train longer, or validate more often with validation_frequency=...)")
    for i, record in enumerate(history):
        missing = [key for key in _HISTORY_KEYS if not hasattr(record, "get") or key not in record]
        if missing:
            raise ValueError("history[%d] lacks %s; expected the dicts of optimize()'s result.history "
                             "with keys %s" % (i, ", ".join(missing), ", ".join(_HISTORY_KEYS)))
    return list(history)


def _minibatches_per_epoch(records):
    """Minibatches in an epoch, from a record after the first epoch (iteration counts
    every minibatch so far: (epoch - 1) * n + minibatch); None if all are in epoch 1."""
    for record in records:
        if record["epoch"] > 1:
            return (record["iteration"] - record["minibatch"]) / (record["epoch"] - 1)
    return None


def epoch_axis(history):
    """(x values, axis label) for the history's records: fractional epochs where
    the number of minibatches an epoch can be told, else epochs, else iterations."""
    records = _records(history)
    per_epoch = _minibatches_per_epoch(records)
    if per_epoch:
        return numpy.array([r["iteration"] / per_epoch for r in records]), "epoch"
    epochs = [r["epoch"] for r in records]
    if len(set(epochs)) == len(epochs):
        return numpy.array(epochs, dtype="float64"), "epoch"
    return numpy.array([r["iteration"] for r in records], dtype="float64"), "minibatches (iterations)"


def plot_history(history, path, title=None, figsize=(6.4, 4.8), dpi=100):
    """Training curves as a PNG: training cost above, validation and test error below.

    history   optimize()'s `result.history` (or the result itself): one dict per
              validation with epoch, iteration, minibatch, train_cost,
              valid_error and test_error (measured only when validation improved,
              so it shows as markers), and the name of the metric they measure
              (an error rate is drawn in percent, an mse or bits as they are)
    path      where to write the PNG; its folder must exist
    Returns `path`.  The image is figsize * dpi pixels."""
    path = _png_path(path)
    return _save(history_figure(history, title, figsize, dpi), path)


def history_figure(history, title=None, figsize=(6.4, 4.8), dpi=100):
    """The figure plot_history writes: its two axes hold the cost and the metric's curves."""
    from DL.optimizers.metrics import as_metric
    records = _records(history)
    # the records name their metric; histories written before they did measured error rates
    metric = as_metric(records[-1].get("metric") or "error rate")
    x, x_label = epoch_axis(records)
    figure = _figure(figsize, dpi)
    cost_axes, error_axes = figure.subplots(2, 1, sharex=True)

    cost_axes.plot(x, [r["train_cost"] for r in records], "-", marker=".", color="C0")
    cost_axes.set_ylabel("training cost")
    cost_axes.grid(alpha=0.3)
    if title:
        cost_axes.set_title(title)

    error_axes.plot(x, [metric.scale * r["valid_error"] for r in records], "-", marker=".",
                    color="C1", label="validation")
    tested = [(xi, r["test_error"]) for xi, r in zip(x, records) if r.get("test_error") is not None]
    if tested:
        error_axes.plot([xi for xi, _ in tested], [metric.scale * e for _, e in tested], "o", color="C2",
                        markersize=4, label="test (at best validation)")
    error_axes.set_ylabel("%s (%s)" % (metric.name, metric.unit) if metric.unit else metric.name)
    error_axes.set_xlabel(x_label)
    error_axes.grid(alpha=0.3)
    error_axes.legend(loc="upper right", fontsize="small")
    return figure


def _mean_curve(histories, key, where):
    """(x, mean, low, high) of `key` over runs of unequal length (a run stopped early
    counts until it stopped): x is the longest run's epochs."""
    runs = []
    for i, history in enumerate(histories):
        history = getattr(history, "history", history)
        if not isinstance(history, (list, tuple)) or not history or not all(
                hasattr(record, "get") and key in record for record in history):
            raise ValueError("%s[%d] must be a non-empty history (a list of dicts with %r, such as "
                             "optimize()'s result.history)" % (where, i, key))
        runs.append(history)
    longest = max(runs, key=len)
    x = numpy.array([record.get("epoch", n + 1) for n, record in enumerate(longest)], dtype="float64")
    values = numpy.full((len(runs), len(longest)), numpy.nan)
    for row, history in zip(values, runs):
        row[:len(history)] = [numpy.nan if r[key] is None else r[key] for r in history]
    counted = numpy.isfinite(values).any(axis=0)
    x, values = x[counted], values[:, counted]
    return x, numpy.nanmean(values, axis=0), numpy.nanmin(values, axis=0), numpy.nanmax(values, axis=0)


def plot_curves(curves, path, key="valid_error", title=None, percent=True, figsize=None, dpi=100):
    """Validation curves of many runs as a PNG: one line per config, the mean over its
    seeds, and a band from the lowest to the highest seed.

    curves   {label: [history, ...]}: for each config, the histories of its runs
             (optimize()'s result.history, one per seed); or {panel title:
             {label: [history, ...]}} for one panel per model or task
    key      the record entry to draw ('valid_error'; 'train_cost' ...)
    percent  draw errors in percent
    path     where to write the PNG; its folder must exist
    Returns `path`.  The image is figsize * dpi pixels (figsize: 5.6 x 4.2 inches a panel)."""
    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves must be a non-empty dict {label: [history, ...]} (or {panel: {label: "
                         "[history, ...]}}), got %r" % (curves,))
    nested = all(isinstance(value, dict) for value in curves.values())
    panels = curves if nested else {title: curves}
    path = _png_path(path)
    figure = _figure(figsize or (5.6 * len(panels), 4.2), dpi)
    scale = 100.0 if percent else 1.0
    for i, (panel, lines) in enumerate(panels.items()):
        axes = figure.add_subplot(1, len(panels), i + 1)
        for label, histories in lines.items():
            x, mean, low, high = _mean_curve(histories, key, "curves[%r]" % label)
            (line,) = axes.plot(x, scale * mean, "-", label="%s (%d)" % (label, len(histories)))
            if len(histories) > 1:
                axes.fill_between(x, scale * low, scale * high, color=line.get_color(), alpha=0.15)
        if panel is not None:
            axes.set_title(str(panel))
        axes.set_xlabel("epoch")
        axes.set_ylabel({"valid_error": "validation error"}.get(key, key.replace("_", " "))
                        + (" (%)" if percent else ""))
        axes.grid(alpha=0.3)
        axes.legend(loc="upper right", fontsize="x-small")
    return _save(figure, path)


# --- convolution filters --------------------------------------------------------

def _filters(W):
    """`W` (an array, or a shared variable) as a float `(n_out, n_in, h, w)` array, n_in 1 or 3."""
    if hasattr(W, "get_value"):
        W = W.get_value()
    try:
        array = numpy.asarray(W, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError("W must be a numeric array of filters (n_out, n_in, height, width)") from None
    if array.ndim != 4:
        raise ValueError("W must be 4-D filters (n_out, n_in, height, width), as ConvLayer.W, got shape %s"
                         % (array.shape,))
    if array.shape[1] not in (1, 3) or 0 in array.shape:
        raise ValueError("W's filters must have 1 channel (gray) or 3 (RGB) to be drawn as images, got "
                         "shape %s; pass one channel, e.g. W[:, :1]" % (array.shape,))
    if not numpy.all(numpy.isfinite(array)):
        raise ValueError("W holds NaN or infinite values")
    return array


def _grid(n_filters, columns):
    """(rows, columns) of a grid of n_filters: columns default ceil(sqrt(n_filters))."""
    columns = int(numpy.ceil(numpy.sqrt(n_filters))) if columns is None else columns
    if not isinstance(columns, numbers.Integral) or isinstance(columns, bool) or columns < 1:
        raise ValueError("columns must be an integer >= 1, got %r" % (columns,))
    return -(-n_filters // columns), int(columns)


def filter_tiles(W, columns=None, gap=1):
    """The filters of W `(n_out, n_in, h, w)` side by side in one image, row by row.

    Each filter is scaled to its own range, (f - min f) / (max f - min f) (a
    constant filter is 0.5), so the picture shows its pattern, not its size.
    Tiles are `gap` pixels apart on a white (1.0) background, `columns` a row
    (default ceil(sqrt(n_out))), rows = ceil(n_out / columns).  Returns
    `(rows (h + gap) - gap, columns (w + gap) - gap)` for gray filters (n_in = 1),
    with a last axis of 3 for RGB."""
    array = _filters(W)
    n_out, n_in, height, width = array.shape
    rows, columns = _grid(n_out, columns)
    if not isinstance(gap, numbers.Integral) or gap < 0:
        raise ValueError("gap must be an integer >= 0 (pixels between the filters), got %r" % (gap,))
    low = array.min(axis=(1, 2, 3), keepdims=True)
    spread = array.max(axis=(1, 2, 3), keepdims=True) - low
    scaled = numpy.where(spread > 0, (array - low) / numpy.where(spread > 0, spread, 1), 0.5)
    tiles = numpy.ones((rows * (height + gap) - gap, columns * (width + gap) - gap, n_in))
    for i, tile in enumerate(scaled):
        top, left = (i // columns) * (height + gap), (i % columns) * (width + gap)
        tiles[top:top + height, left:left + width] = tile.transpose(1, 2, 0)  # channels last
    return tiles[:, :, 0] if n_in == 1 else tiles


def filter_grid(W, path=None, columns=None, title=None, figsize=None, dpi=100):
    """A convolutional layer's filters as a grid of small images (a PNG, or a figure).

    W        `(n_out, n_in, height, width)`, e.g. `lenet.convLayers[0].W` (a shared
             variable or an array); n_in = 1 is drawn in gray (dark low, light
             high), n_in = 3 as RGB; each filter scaled to its own range (`filter_tiles`)
    path     where to write the PNG (its folder must exist); None: return the figure
    columns  filters per row (default ceil(sqrt(n_out)))
    Returns `path`, or the matplotlib Figure when path is None.  The image is
    figsize * dpi pixels; figsize defaults to half an inch a filter (at least an inch each
    way), and 0.3 inch more height for a title."""
    array = _filters(W)
    rows, columns = _grid(len(array), columns)
    path = None if path is None else _png_path(path)
    figure = _figure(figsize or (max(1.0, 0.5 * columns), max(1.0, 0.5 * rows) + (0.3 if title else 0)), dpi)
    axes = figure.subplots()
    axes.imshow(filter_tiles(array, columns), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_axis_off()
    if title:
        axes.set_title(title, fontsize="small")
    return figure if path is None else _save(figure, path)


# --- embedding maps -------------------------------------------------------------

def _vectors(vectors):
    """`vectors` (an array, or a shared variable) as a 2-D float array."""
    if hasattr(vectors, "get_value"):
        vectors = vectors.get_value()
    try:
        array = numpy.asarray(vectors, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError("vectors must be a numeric array (n_points, n_dims)") from None
    if array.ndim != 2:
        raise ValueError("vectors must be 2-D (n_points, n_dims), got shape %s" % (array.shape,))
    if len(array) < 3:
        raise ValueError("vectors holds %d points; a t-SNE map needs at least 3" % len(array))
    if not numpy.all(numpy.isfinite(array)):
        raise ValueError("vectors holds NaN or infinite values")
    return array


def tsne(vectors, perplexity=30.0, seed=0, max_iter=1000, n_threads=1):
    """2-D t-SNE coordinates (n_points, 2) of `vectors`, seeded.

    scikit-learn's Barnes-Hut t-SNE (van der Maaten and Hinton 2008), started
    from PCA.  Perplexity, the effective number of neighbours each point
    attends to, must stay below the number of points; for small sets it is
    lowered to (n_points - 1) / 3.  `max_iter` is at least 250.

    `n_threads` caps OpenMP's threads while t-SNE runs (None: OpenMP's
    default).  One thread is the default because on a shared, busy machine
    OpenMP's threads wait on each other: 300 points took 43 s with the
    default threads and 1.2 s with one, on 2 loaded cores."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    array = _vectors(vectors)
    if not perplexity > 0:
        raise ValueError("perplexity must be positive, got %r" % (perplexity,))
    if not max_iter >= 250:
        raise ValueError("max_iter must be at least 250 (scikit-learn's minimum), got %r" % (max_iter,))
    perplexity = max(1.0, min(float(perplexity), (len(array) - 1) / 3.0))
    model = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto",
                 max_iter=max_iter, random_state=seed)
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        return model.fit_transform(array)


def _labels(labels, n_points):
    if labels is None:
        return None
    labels = numpy.asarray(labels)
    if labels.ndim != 1 or len(labels) != n_points:
        raise ValueError("labels must be 1-D with one label per vector (%d), got shape %s"
                         % (n_points, labels.shape))
    return labels


def _draw_classes(axes, points, labels):
    """Points coloured by class, with a legend (a colour bar past 20 classes)."""
    classes = numpy.unique(labels)
    if len(classes) > 20:
        scatter = axes.scatter(points[:, 0], points[:, 1], c=labels, cmap="viridis", s=8)
        axes.figure.colorbar(scatter, ax=axes, label="label")
        return
    colours = "tab10" if len(classes) <= 10 else "tab20"
    from matplotlib import colormaps
    colour_map = colormaps[colours]
    for i, label in enumerate(classes):
        chosen = labels == label
        axes.scatter(points[chosen, 0], points[chosen, 1], s=8, color=colour_map(i), label=str(label))
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small",
                markerscale=2, frameon=False)


def _draw_words(axes, points, words, fontsize):
    """Words written beside their points, in dark grey (readable over any point colour)."""
    for (px, py), word in zip(points, words):
        axes.annotate(str(word), (px, py), xytext=(3, 2), textcoords="offset points",
                      fontsize=fontsize, color="0.15")


def _draw_values(axes, points, values, value_label, value_range):
    """Points coloured by a number each (red low, blue high), with a colour bar."""
    from matplotlib.colors import Normalize
    low, high = value_range if value_range is not None else (values.min(), values.max())
    scatter = axes.scatter(points[:, 0], points[:, 1], c=values, cmap="RdBu",
                           norm=Normalize(vmin=low, vmax=high), s=22, edgecolors="0.4", linewidths=0.3)
    axes.figure.colorbar(scatter, ax=axes, label=value_label or "value", shrink=0.8)


def _values(values, n_points):
    if values is None:
        return None
    array = numpy.asarray(values, dtype="float64")
    if array.shape != (n_points,) or not numpy.all(numpy.isfinite(array)):
        raise ValueError("values must hold one finite number per vector (%d), got shape %s"
                         % (n_points, array.shape))
    return array


def embedding_map(vectors, labels, path, values=None, value_label=None, value_range=None,
                  perplexity=30.0, seed=0, title=None, figsize=(7.0, 6.0), dpi=100, fontsize=7,
                  max_iter=1000, n_threads=1):
    """A 2-D t-SNE map of learned vectors as a PNG; returns the (n_points, 2) coordinates.

    vectors   (n_points, n_dims): hidden activations, embedding rows, ...
    labels    one per point: numbers (classes, e.g. digits) colour the points,
              strings (e.g. words) are written beside them; None draws plain points
    values    optional, one number per point (e.g. a word's predicted sentiment):
              colours the points on a red-blue scale named `value_label` that spans
              `value_range` (default: the values' own range); with word labels or
              None, not with class labels
    path      where to write the PNG; its folder must exist
    The image is figsize * dpi pixels; `seed` makes the map repeatable; see
    `tsne()` for perplexity, max_iter and n_threads."""
    array = _vectors(vectors)
    labels = _labels(labels, len(array))
    values = _values(values, len(array))
    words = labels is not None and labels.dtype.kind in "USO"
    if values is not None and labels is not None and not words:
        raise ValueError("values colour the points, and so do class labels: pass one of them "
                         "(or words as labels)")
    path = _png_path(path)
    points = tsne(array, perplexity=perplexity, seed=seed, max_iter=max_iter, n_threads=n_threads)

    figure = _figure(figsize, dpi)
    axes = figure.subplots()
    if values is not None:
        _draw_values(axes, points, values, value_label, value_range)
    elif labels is None or words:
        axes.scatter(points[:, 0], points[:, 1], s=6 if words else 8, color="C0")
    else:
        _draw_classes(axes, points, labels)
    if words:
        _draw_words(axes, points, labels, fontsize)
    axes.set_xticks([])
    axes.set_yticks([])
    if title:
        axes.set_title(title)
    _save(figure, path)
    return points


def neighbour_agreement(points, labels, k=5):
    """The fraction of each point's k nearest neighbours (in `points`) that share its label.

    A number for how well a map (or any space) keeps classes together: 1.0
    when every neighbourhood is pure; about sum_c share_c^2 (0.1 for ten equal
    classes) when labels are scattered at random.  points (n_points, n_dims),
    labels (n_points,).  It holds all pairwise distances, n_points^2 numbers:
    meant for a few thousand points."""
    points = numpy.asarray(points, dtype="float64")
    labels = numpy.asarray(labels)
    if points.ndim != 2 or labels.shape != (len(points),):
        raise ValueError("points must be (n_points, n_dims) and labels (n_points,), got %s and %s"
                         % (points.shape, labels.shape))
    if not 1 <= k < len(points):
        raise ValueError("k must be in 1 .. n_points - 1 = %d, got %r" % (len(points) - 1, k))
    squared = numpy.sum(points ** 2, axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * points @ points.T
    numpy.fill_diagonal(distances, numpy.inf)  # a point is not its own neighbour
    neighbours = numpy.argpartition(distances, k - 1, axis=1)[:, :k]
    return float(numpy.mean(labels[neighbours] == labels[:, None]))
