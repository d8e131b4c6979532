"""What a researcher reads at the end of a study: a table over seeds and the curves.

The table has one row per config (its values without the seed key) and, for
every numeric metric, its mean ± spread (standard deviation) over the seeds
that finished:

    | optimizer | learning_rate | seeds | valid_error     | test_error      |
    |---|---|---|---|---|
    | adam      | 0.01          | 3/3   | 0.0512 ± 0.0031 | 0.0534 ± 0.0040 |
"""
import json

import numpy

from DL.sweep.worker import is_number


def _label(config, keys):
    return " ".join("%s=%s" % (key, _text(config[key])) for key in keys)


def _text(value):
    if isinstance(value, float):
        return "%.4g" % value
    return value if isinstance(value, str) else json.dumps(value)


def groups(records, keys, seed_key="seed"):
    """{config without the seed (as a tuple of (key, value)): [records]}, in the space's order."""
    grouped = {}
    for record in records:
        group = tuple((key, json.dumps(record["config"][key])) for key in keys if key != seed_key)
        grouped.setdefault(group, []).append(record)
    return grouped


def table(records, keys, seed_key="seed"):
    """The study's table as Markdown text (see the module docstring)."""
    metric_names = []
    for record in records:
        if record["status"] == "done":
            metric_names += [name for name, value in record["metrics"].items()
                             if is_number(value) and name not in metric_names]
    shown = [key for key in keys if key != seed_key]
    lines = ["| %s |" % " | ".join(shown + ["seeds"] + metric_names),
             "|%s" % ("---|" * (len(shown) + 1 + len(metric_names)))]
    for group, runs in groups(records, keys, seed_key).items():
        done = [r for r in runs if r["status"] == "done"]
        cells = [_text(json.loads(value)) for _, value in group]
        failed = len([r for r in runs if r["status"] == "failed"])
        cells.append("%d/%d%s" % (len(done), len(runs), " (%d failed)" % failed if failed else ""))
        for name in metric_names:
            values = numpy.array([r["metrics"][name] for r in done if is_number(r["metrics"].get(name))])
            cells.append("%.4g ± %.2g" % (values.mean(), values.std()) if values.size else "-")
        lines.append("| %s |" % " | ".join(str(cell) for cell in cells))
    return "\n".join(lines)


def curves(records, keys, seed_key="seed", panel_key=None):
    """The validation histories of the finished trials, grouped for DL.viz.plot_curves:
    {label: [history, ...]} (one list per config, one history per seed), or with
    `panel_key`, {panel: {label: [history, ...]}}.  Labels name the keys that vary."""
    # (a key with one value in the whole study, such as the budget, would only lengthen every label)
    varying = [key for key in keys if len({json.dumps(r["config"][key]) for r in records}) > 1]
    line_keys = [key for key in varying if key not in (seed_key, panel_key)]
    panels = {}
    for record in records:
        if record["status"] != "done" or not record["history"]:
            continue
        panel = _text(record["config"][panel_key]) if panel_key else None
        label = _label(record["config"], line_keys) or "all"
        panels.setdefault(panel, {}).setdefault(label, []).append(record["history"])
    if panel_key is None:
        return panels.get(None, {})
    return panels
