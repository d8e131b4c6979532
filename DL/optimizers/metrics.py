"""What a run's `errors` measure, so that each figure is shown in its own unit.

    Metric(name, unit, scale)     a value v is shown as `v * scale` followed by `unit`

    'error rate'          a fraction of examples wrong, shown in percent: 12.000 %
    'mse'                 a mean squared error, a plain number: 0.0294
    'bits per character'  a plain number: 2.099
    any other name        a plain number

`optimize(..., metric=...)` takes a name or a Metric; without one, the metric
is read from the errors graph: `DL.losses.pred_error` marks its result as an
error rate and `DL.losses.mse` as an mse (in `errors.tag.metric`) (a model's `errors(y)` uses one of
them, and `model.metric` names it); anything else is a plain number called
'error'.
"""
from collections import namedtuple


class Metric(namedtuple("Metric", "name unit scale")):
    """A metric's name, its unit and the factor from a value to that unit."""

    def format(self, value):
        """`value` in the metric's unit: '12.000 %' for an error rate of 0.12, '0.0294' for an mse."""
        if self.unit == "%":
            return "%.3f %%" % (value * self.scale)
        text = "%.4g" % (value * self.scale)
        return text + " " + self.unit if self.unit else text


KNOWN = {metric.name: metric for metric in (
    Metric("error rate", "%", 100),
    Metric("mse", "", 1),
    Metric("bits per character", "", 1),
)}
PLAIN = Metric("error", "", 1)


def as_metric(metric, errors=None):
    """`metric` as a Metric: a Metric, a name, or None (read from `errors`, else PLAIN)."""
    if metric is None:
        metric = getattr(getattr(errors, "tag", None), "metric", None) or PLAIN
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str) and metric.strip():
        return KNOWN.get(metric, Metric(metric, "", 1))
    raise TypeError("metric must be a name ('error rate', 'mse', 'bits per character', ...) or "
                    "DL.optimizers.metrics.Metric(name, unit, scale), got %r" % (metric,))
