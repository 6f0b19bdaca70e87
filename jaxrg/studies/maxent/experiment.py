r"""Reproduction of "Composable subnetworks by the maximum-entropy principle" (Caso et al. 2025).

Two experiments, each resumable (one JSON line per finished unit in ``results.jsonl``, keyed by
``(experiment, dataset, model, loss, rewarded, seed, stage)``; a restarted run skips them):

- :func:`run_table`: for every seed, one network per loss (ME, QME, XE; the same initialisation
  for every loss of a seed) trained on the rewarded subset :math:`R`; test-set R-Acc, overall
  accuracy and mean prediction entropy on samples in / outside :math:`R` (stage ``"dense"``).
- :func:`run_merge`: the classes are split into disjoint groups :math:`R_1, R_2, \dots`; one
  subnetwork per group is found by IMP with rewinding (every module of a seed shares one
  initialisation; records of stages ``"imp0"`` dense … ``"imp<rounds>"``), then the first
  :math:`j` modules are merged, :math:`\theta = \sum_{i\le j}\theta_i\odot m_i`, and evaluated on
  the union of their classes (``"merge<j>"``); the connectivity paths between modules 1 and 2
  (the paper's path through the merge, and the straight line) give the loss barrier (``"path"``).
  Beyond the paper, the same first :math:`j \ge 2` modules are also merged by task arithmetic and
  TIES (:mod:`jaxrg.studies.maxent.merging`, :math:`\lambda` chosen on the validation split) and
  compared with the paper's merge: union accuracy and the loss barrier along the straight path
  from each module (``"methods"``, stage ``"<method><j>"``).

:func:`report` writes ``table.md`` (mean (std) over seeds) and the figures.

Data (docs/design.md §8): images scaled to [−1, 1], tabular features standardised with training
statistics; the training set is split 80/20 (seeded by 0) into train/validation, and the models
are trained on the 80 %; metrics are on the published test split (Yeast: a seeded 20 % test
split).
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
from typing import NamedTuple

import numpy as np

from jaxrg import _io
from jaxrg.studies._common.engine import with_x64
from jaxrg.studies._common.layers import INITS

__all__ = [
    "DATASETS",
    "DEFAULTS",
    "INITS",
    "KEY_FIELDS",
    "LOSSES",
    "MaxEntConfig",
    "NUM_CLASSES",
    "PUBLISHED",
    "Prepared",
    "collect",
    "plot_all",
    "prepare",
    "report",
    "run_merge",
    "run_table",
    "summary_table",
    "table_rows",
]

DATASETS = ("mnist", "fashion_mnist", "har", "yeast")
NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10, "har": 6, "yeast": 4}
LOSSES = ("me", "qme", "xe")
KEY_FIELDS = ("experiment", "dataset", "model", "init", "loss", "rewarded", "seed", "stage")

# Per-dataset defaults of docs/design.md §8:
# (learning rate, epochs, dropout, hidden shallow, hidden deep).
DEFAULTS = {
    "mnist": (1e-3, 20, 0.5, (512,), (512, 256)),
    "fashion_mnist": (1e-3, 20, 0.5, (512,), (512, 256)),
    "har": (1e-4, 25, 0.5, (512,), (512, 256)),
    "yeast": (1e-3, 25, 0.2, (256,), (128, 64)),
}


class Prepared(NamedTuple):
    """Preprocessed arrays (float32 features, int32 labels) of one dataset."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    image_shape: tuple | None
    name: str


@dataclasses.dataclass(frozen=True)
class MaxEntConfig:
    """One configuration of the study. ``None`` fields take the dataset's default (design.md §8)."""

    dataset: str = "mnist"
    model: str = "shallow"
    losses: tuple = LOSSES
    seeds: tuple = (0, 1, 2, 3, 4)
    rewarded: tuple = (0, 1, 2, 3, 4)
    groups: tuple = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9))
    epochs: int | None = None
    learning_rate: float | None = None
    dropout: float | None = None
    temperature: float = 5.0
    batch_size: int = 64
    sparsity: float | None = None
    rounds: int = 2
    path_points: int = 21
    merge_scales: tuple = tuple(round(0.1 * i, 1) for i in range(1, 21))
    ties_density: float = 0.2
    train_limit: int | None = None
    data_dir: str | None = None
    init: str = "flax"

    def resolved(self) -> MaxEntConfig:
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose one of {DATASETS}")
        if self.model not in ("shallow", "deep", "cnn"):
            raise ValueError(f"unknown model {self.model!r}; choose shallow, deep or cnn")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS} (CLI --init), got {self.init!r}; "
                             "'torch' is PyTorch's default initialisation of the paper's code")
        if self.model == "cnn" and self.dataset not in ("mnist", "fashion_mnist"):
            raise ValueError("the CNN is for the image datasets (mnist, fashion_mnist) only")
        bad = [loss for loss in self.losses if loss not in LOSSES]
        if bad or not self.losses:
            raise ValueError(f"losses must be among {LOSSES}, got {self.losses}")
        if not self.seeds:
            raise ValueError("need at least one seed")
        if not 0 < self.temperature < math.inf:
            raise ValueError(f"temperature must be a finite number > 0 (CLI --temperature), "
                             f"got {self.temperature}")
        if self.learning_rate is not None and not 0 < self.learning_rate < math.inf:
            raise ValueError(f"learning_rate must be a finite number > 0 (CLI --lr), got "
                             f"{self.learning_rate}; leave it None for the dataset's default")
        if not self.merge_scales or not all(0 < s < math.inf for s in self.merge_scales):
            raise ValueError(f"merge_scales must be finite numbers > 0 (the lambda grid of task "
                             f"arithmetic and TIES), got {self.merge_scales}")
        if not 0 < self.ties_density <= 1:
            raise ValueError(f"ties_density must lie in (0, 1] (CLI --ties-density), got "
                             f"{self.ties_density}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"epochs must be >= 1 (CLI --epochs), got {self.epochs}")
        if self.train_limit is not None and self.train_limit < 1:
            raise ValueError(f"train_limit must be >= 1 (CLI --train-limit), got "
                             f"{self.train_limit}; leave it None for the whole training set")
        lr, epochs, dropout, _, _ = DEFAULTS[self.dataset]
        sparsity = 0.6 if self.model == "cnn" else 0.99
        return dataclasses.replace(
            self, losses=tuple(self.losses), seeds=tuple(int(s) for s in self.seeds),
            rewarded=tuple(sorted(int(c) for c in self.rewarded)),
            merge_scales=tuple(float(s) for s in self.merge_scales),
            groups=tuple(tuple(sorted(int(c) for c in g)) for g in self.groups),
            epochs=epochs if self.epochs is None else self.epochs,
            learning_rate=lr if self.learning_rate is None else self.learning_rate,
            dropout=dropout if self.dropout is None else self.dropout,
            sparsity=sparsity if self.sparsity is None else self.sparsity)


def _subset_name(classes) -> str:
    return "-".join(str(c) for c in classes)


def prepare(dataset: str, *, data_dir=None, val_fraction: float = 0.2, seed: int = 0,
            train_limit: int | None = None) -> Prepared:
    """Load ``dataset`` and preprocess it as in docs/design.md §8 (see the module docstring)."""
    import jaxrg.datasets as ds

    if dataset in ("mnist", "fashion_mnist"):
        raw = ds.load_idx_dataset(dataset, data_dir=data_dir)
        image_shape = raw.x_train.shape[1:]

        def scale(a):
            return (a.reshape(a.shape[0], -1).astype(np.float32) / np.float32(127.5)
                    - np.float32(1.0))

        x_all, x_test = scale(raw.x_train), scale(raw.x_test)
    elif dataset in ("yeast", "har"):
        raw = ds.load_yeast(data_dir=data_dir, top_classes=4) if dataset == "yeast" else (
            ds.load_har(data_dir=data_dir))
        image_shape = None
        x_all, x_test = raw.x_train, raw.x_test
    else:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {DATASETS}")
    order = np.random.default_rng(seed).permutation(len(raw.y_train))
    n_val = int(round(val_fraction * len(order)))
    train, val = order[n_val:], order[:n_val]
    if train_limit is not None:
        train = train[:train_limit]
    x_train, y_train = x_all[train], raw.y_train[train]
    x_val, y_val = x_all[val], raw.y_train[val]
    if image_shape is None:  # standardise with training statistics
        mean = x_train.mean(axis=0)
        std = np.where(x_train.std(axis=0) > 0, x_train.std(axis=0), 1.0).astype(np.float32)
        x_train, x_val, x_test = ((a - mean) / std for a in (x_train, x_val, x_test))
    return Prepared(x_train.astype(np.float32), y_train, x_val.astype(np.float32), y_val,
                    x_test.astype(np.float32), raw.y_test, raw.num_classes, image_shape, dataset)


def _init(config: MaxEntConfig, data: Prepared, seed: int):
    from flax import nnx

    from jaxrg.studies.maxent.subnetworks import make_model

    _, _, _, shallow, deep = DEFAULTS[config.dataset]
    model = make_model(config.model, data.x_train.shape[1], data.num_classes, seed=seed,
                       dropout=config.dropout, image_shape=data.image_shape,
                       hidden=shallow if config.model == "shallow" else deep, init=config.init)
    graphdef, params = nnx.split(model, nnx.Param)
    return graphdef, params


def _mask_of(classes, num_classes: int):
    import jax.numpy as jnp

    classes = list(classes)
    if any(c < 0 or c >= num_classes for c in classes):
        raise ValueError(f"class ids must lie in [0, {num_classes}), got {classes}")
    return jnp.zeros((num_classes,), dtype=bool).at[jnp.asarray(classes, dtype=int)].set(True)


def _metrics_record(metrics) -> dict:
    # The metric "loss" is stored as "kl": "loss" names the training loss (me, qme, xe).
    return {("kl" if name == "loss" else name): float(value)
            for name, value in zip(metrics._fields, metrics, strict=True)}


def _evaluate(graphdef, params, data: Prepared, rewarded_mask, kind: str, temperature):
    import jax.numpy as jnp

    from jaxrg import maxent
    from jaxrg.studies.maxent import train as tm

    y = jnp.asarray(data.y_test)
    targets = maxent.targets(y, rewarded_mask, data.num_classes, kind=kind).astype(jnp.float32)
    return tm.evaluate(graphdef, params, jnp.asarray(data.x_test), y, rewarded_mask, targets,
                       jnp.float32(temperature))


def _base(config: MaxEntConfig, experiment: str, loss: str, rewarded: str, seed: int,
          stage: str) -> dict:
    return {"experiment": experiment, "dataset": config.dataset, "model": config.model,
            "init": config.init, "loss": loss, "rewarded": rewarded, "seed": seed, "stage": stage,
            "epochs": config.epochs, "learning_rate": config.learning_rate,
            "dropout": config.dropout, "temperature": config.temperature,
            "batch_size": config.batch_size, "train_size": None}


@_io.locks_folder("out")
@with_x64
def run_table(out, config: MaxEntConfig, *, progress: bool = True, data: Prepared | None = None
              ) -> list[dict]:
    """Train one network per (loss, seed) on the rewarded subset; append one record each.

    The losses of one seed share the initialisation and are trained together under ``vmap``.
    Returns every record of this configuration in ``out/results.jsonl`` (old and new).
    """
    import jax
    import jax.numpy as jnp
    from tqdm.auto import tqdm

    from jaxrg import maxent
    from jaxrg.studies.maxent import train as tm

    config = config.resolved()
    path = pathlib.Path(out) / "results.jsonl"
    rewarded = _subset_name(config.rewarded)
    done = _io.finished_keys(_records(path), KEY_FIELDS)
    todo = [(s, [loss for loss in config.losses
                 if ("table", config.dataset, config.model, config.init, loss, rewarded, s,
                     "dense")
                 not in done]) for s in config.seeds]
    todo = [(s, losses) for s, losses in todo if losses]
    if todo:
        data = data or prepare(config.dataset, data_dir=config.data_dir,
                               train_limit=config.train_limit)
        mask = _mask_of(config.rewarded, data.num_classes)
        x = jnp.asarray(data.x_train)
        y = jnp.asarray(data.y_train)
    for seed, losses in tqdm(todo, desc=f"maxent table {config.dataset}", disable=not progress):
        graphdef, params = _init(config, data, seed)
        k = len(losses)
        stacked = jax.tree.map(lambda w, k=k: jnp.stack([w] * k), params)
        targets = jnp.stack([maxent.targets(y, mask, data.num_classes, kind=loss)
                             for loss in losses]).astype(jnp.float32)
        keys = jax.random.split(jax.random.key(seed), k)
        trained, losses_curve = tm.fit_many(
            graphdef, stacked, tm.full_masks(stacked), x, targets, keys,
            learning_rate=jnp.float32(config.learning_rate),
            temperature=jnp.float32(config.temperature), epochs=config.epochs,
            batch_size=config.batch_size)
        for i, loss in enumerate(losses):
            p = jax.tree.map(lambda w, i=i: w[i], trained)
            metrics = _evaluate(graphdef, p, data, mask, loss, config.temperature)
            record = _base(config, "table", loss, rewarded, seed, "dense")
            record |= _metrics_record(metrics)
            record["train_size"] = int(x.shape[0])
            record["train_loss"] = [float(v) for v in np.asarray(losses_curve[i])]
            _io.append_jsonl(path, record)
    key = (config.dataset, config.model, config.init, rewarded)
    return [r for r in _records(path) if r["experiment"] == "table"
            and (r["dataset"], r["model"], r["init"], r["rewarded"]) == key]


def _path_curve(graphdef, p1, p2, data: Prepared, union_mask, kind: str, temperature, points,
                path_kind: str):
    import jax.numpy as jnp

    from jaxrg import maxent

    ts = np.linspace(0.0, 1.0, points)
    losses, accs = [], []
    for t in ts:
        p = maxent.connectivity_path(p1, p2, jnp.float32(t), kind=path_kind)
        m = _evaluate(graphdef, p, data, union_mask, kind, temperature)
        losses.append(float(m.loss))
        accs.append(float(m.r_acc))
    barrier = float(maxent.loss_barrier(jnp.asarray(ts), jnp.asarray(losses)))
    barrier_mean = float(maxent.loss_barrier(jnp.asarray(ts), jnp.asarray(losses),
                                             reference="mean"))
    return {"ts": ts.tolist(), "losses": losses, "accuracies": accs, "barrier": barrier,
            "barrier_mean": barrier_mean}


@_io.locks_folder("out")
@with_x64
def run_merge(out, config: MaxEntConfig, *, progress: bool = True,
              data: Prepared | None = None) -> list[dict]:
    """IMP one subnetwork per group of ``config.groups`` for each loss and seed, then merge.

    Records: per module and IMP stage (``"imp<r>"``: metrics on the module's own classes and its
    sparsity), per number of merged modules (``"merge<j>"``: accuracy on the union of the first j
    groups, and each group's R-Acc in the merged model), and the connectivity paths between
    modules 1 and 2 (``"path"``). A (loss, seed) is redone as a whole unless its ``"path"`` (the
    last record written) is present.
    """
    import jax
    import jax.numpy as jnp
    from tqdm.auto import tqdm

    from jaxrg import maxent
    from jaxrg.studies.maxent import merging as merge_methods
    from jaxrg.studies.maxent import train as tm

    config = config.resolved()
    groups = config.groups
    if len(groups) < 2:
        raise ValueError("merging needs at least two groups of classes")
    flat = [c for g in groups for c in g]
    if len(set(flat)) != len(flat):
        raise ValueError(f"the groups must be disjoint, got {groups}")
    path = pathlib.Path(out) / "results.jsonl"
    name = "|".join(_subset_name(g) for g in groups)
    done = _io.finished_keys(_records(path), KEY_FIELDS)
    everything = _subset_name(flat)
    unit = (config.dataset, config.model, config.init)
    todo = [(loss, s) for s in config.seeds for loss in config.losses
            if ("path", *unit, loss, name, s, "path") not in done
            or ("methods", *unit, loss, everything, s, f"ties{len(groups)}") not in done]
    if todo:
        data = data or prepare(config.dataset, data_dir=config.data_dir,
                               train_limit=config.train_limit)
        x = jnp.asarray(data.x_train)
        y = jnp.asarray(data.y_train)
    for loss, seed in tqdm(todo, desc=f"maxent merge {config.dataset}", disable=not progress):
        graphdef, params = _init(config, data, seed)
        masks_r = [_mask_of(g, data.num_classes) for g in groups]
        k = len(groups)
        stacked = jax.tree.map(lambda w, k=k: jnp.stack([w] * k), params)
        targets = jnp.stack([maxent.targets(y, m, data.num_classes, kind=loss)
                             for m in masks_r]).astype(jnp.float32)
        keys = jax.random.split(jax.random.key(1000 + seed), k)
        pending = []

        def stage_records(stage, ps, ms, loss=loss, seed=seed, masks_r=masks_r,
                          pending=pending, graphdef=graphdef):
            for i, g in enumerate(groups):
                p = jax.tree.map(lambda w, i=i: w[i], ps)
                mk = jax.tree.map(lambda w, i=i: w[i], ms)
                metrics = _evaluate(graphdef, p, data, masks_r[i], loss, config.temperature)
                record = _base(config, "imp", loss, _subset_name(g), seed, f"imp{stage}")
                record |= _metrics_record(metrics)
                record |= {"sparsity": float(tm.sparsity(mk)), "groups": name,
                           "train_size": int(x.shape[0])}
                pending.append(record)

        final, masks = tm.imp_many(
            graphdef, stacked, x, targets, keys, sparsity=config.sparsity, rounds=config.rounds,
            epochs=config.epochs, learning_rate=jnp.float32(config.learning_rate),
            temperature=jnp.float32(config.temperature), batch_size=config.batch_size,
            callback=stage_records)
        modules = [jax.tree.map(lambda w, i=i: w[i], final) for i in range(k)]
        module_masks = [jax.tree.map(lambda w, i=i: w[i], masks) for i in range(k)]
        for j in range(1, k + 1):
            merged, _ = maxent.merge(modules[:j], module_masks[:j])
            union = [c for g in groups[:j] for c in g]
            union_mask = _mask_of(union, data.num_classes)
            metrics = _evaluate(graphdef, merged, data, union_mask, "me", config.temperature)
            record = _base(config, "merge", loss, _subset_name(union), seed, f"merge{j}")
            record |= _metrics_record(metrics)
            record |= {"modules": j, "groups": name, "union_accuracy": float(metrics.r_acc),
                       "module_r_acc": [float(_evaluate(graphdef, merged, data, masks_r[i], "me",
                                                        config.temperature).r_acc)
                                        for i in range(j)]}
            pending.append(record)
            if j < 2:
                continue
            rows = merge_methods.compare_merges(
                graphdef, params, modules[:j], module_masks[:j], data.x_test, data.y_test,
                groups[:j], data.num_classes, temperature=config.temperature,
                points=config.path_points, density=config.ties_density,
                scales=config.merge_scales, x_val=data.x_val, labels_val=data.y_val)
            for row in rows:
                record = _base(config, "methods", loss, _subset_name(union), seed,
                               f"{row['method']}{j}")
                pending.append(record | row | {"groups": name,
                                               "ties_density": config.ties_density})
        union_mask = _mask_of(groups[0] + groups[1], data.num_classes)
        p1 = tm.apply_mask(modules[0], module_masks[0])
        p2 = tm.apply_mask(modules[1], module_masks[1])
        record = _base(config, "path", loss, name, seed, "path")
        for path_kind in ("merge", "linear"):
            record[path_kind] = _path_curve(graphdef, p1, p2, data, union_mask, "me",
                                            config.temperature, config.path_points, path_kind)
        pending.append(record)
        for r in pending:  # the "path" record last: its presence marks the unit finished
            _io.append_jsonl(path, r)
    return [r for r in _records(path)
            if r["experiment"] in ("imp", "merge", "methods", "path")
            and (r["dataset"], r["model"], r["init"]) == unit]


# ----------------------------------------------------------------------------------- report
def _table1(r_acc: str, entropy: str) -> str:
    return f"Table 1: R-Acc {r_acc}, H_out {entropy}"


#: Table 1 of Caso et al. (2025), dense networks (IMP "no"), mean (std); the paper does not state
#: the rewarded set (../shared/reference/published.md §2). XE: the paper's qualitative claim.
PUBLISHED = {
    ("mnist", "shallow", "me"): _table1("0.998 (0.002)", "2.296 (0.003)"),
    ("mnist", "deep", "me"): _table1("0.997 (0.003)", "2.298 (0.002)"),
    ("mnist", "cnn", "me"): _table1("0.998 (0.004)", "2.302 (0.000)"),
    ("fashion_mnist", "shallow", "me"): _table1("0.998 (0.002)", "2.296 (0.003)"),
    ("fashion_mnist", "deep", "me"): _table1("0.995 (0.004)", "2.285 (0.013)"),
    ("fashion_mnist", "cnn", "me"): _table1("0.996 (0.004)", "2.302 (0.000)"),
    ("har", "shallow", "me"): _table1("0.997 (0.007)", "1.762 (0.017)"),
    ("har", "deep", "me"): _table1("0.992 (0.013)", "1.772 (0.014)"),
    ("yeast", "shallow", "me"): _table1("0.995 (0.009)", "1.298 (0.062)"),
    ("yeast", "deep", "me"): _table1("0.996 (0.009)", "1.302 (0.064)"),
    ("mnist", "shallow", "xe"): "low H_out",
    ("fashion_mnist", "shallow", "xe"): "low H_out",
}


def _mean_std(values) -> str:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "–"
    arr = np.asarray(values, dtype=np.float64)
    std = arr.std(ddof=1) if arr.size > 1 else 0.0
    return f"{arr.mean():.4f} ({std:.4f})"


def _with_defaults(record: dict) -> dict:
    """A record with the fields added after it was written (``init``: every earlier run used
    Flax's initialisation)."""
    return {"init": "flax"} | record


def _records(path) -> list[dict]:
    """The records of ``results.jsonl`` (none if it is missing), with :func:`_with_defaults`."""
    return [_with_defaults(r) for r in _io.read_jsonl(path)]


def _latest(records: list[dict]) -> list[dict]:
    """The last record of every key (a re-run after a partial unit may have repeated some),
    ``model`` renamed for the tables: ``"shallow"``, or ``"shallow (torch init)"`` (the bare
    name kept as ``model_name``, so that records passed through twice are labelled once)."""
    last = {}
    for r in map(_with_defaults, records):
        last[tuple(r[f] for f in KEY_FIELDS)] = r

    def labelled(r):
        name = r.get("model_name", r["model"])
        return r if r["init"] == "flax" else r | {"model_name": name,
                                                  "model": f"{name} ({r['init']} init)"}

    return [labelled(r) for r in last.values()]


def _published(dataset: str, model: str, loss: str) -> str:
    """The Table 1 cell of a (dataset, model label, loss), or '–'."""
    return PUBLISHED.get((dataset, model.split(" (")[0], loss), "–")


def _groups(records: list[dict], experiment: str, fields: tuple[str, ...]) -> dict[tuple, list]:
    """The records of one experiment grouped by ``fields``, keys sorted."""
    groups: dict[tuple, list] = {}
    for r in records:
        if r["experiment"] == experiment:
            groups.setdefault(tuple(r[f] for f in fields), []).append(r)
    return dict(sorted(groups.items()))


def summary_table(records: list[dict]) -> str:
    """Markdown tables (mean (std) over seeds) of the table, IMP, merge and path records."""
    records = _latest(records)
    lines = []
    table = _groups(records, "table", ("dataset", "model", "rewarded", "loss"))
    if table:
        lines += ["## Rewarded accuracy and entropy (dense networks, test set)", "",
                  "| dataset | model | R | loss | seeds | R-Acc | acc (all) | H_out | H_in | "
                  "published |", "|---|---|---|---|---|---|---|---|---|---|"]
        for (d, m, rw, loss), rs in table.items():
            lines.append(
                f"| {d} | {m} | {rw} | {loss.upper()} | {len(rs)} | "
                f"{_mean_std([r['r_acc'] for r in rs])} | "
                f"{_mean_std([r['accuracy'] for r in rs])} | "
                f"{_mean_std([r['entropy_out'] for r in rs])} | "
                f"{_mean_std([r['entropy_in'] for r in rs])} | "
                f"{_published(d, m, loss)} |")
        # Runs with one rewarded class each, pooled: Table 1 does not state its rewarded set,
        # and for Yeast the pooled mean and spread over its single classes match the published.
        singles: dict[tuple, list] = {}
        for (d, m, rw, loss), rs in table.items():
            if "-" not in rw:
                singles.setdefault((d, m, loss), []).append((rw, rs))
        for (d, m, loss), groups in singles.items():
            if len(groups) < 2:
                continue
            rs = [r for _, group in groups for r in group]
            classes = ",".join(rw for rw, _ in groups)
            lines.append(
                f"| {d} | {m} | each of {{{classes}}}, pooled | {loss.upper()} | {len(rs)} | "
                f"{_mean_std([r['r_acc'] for r in rs])} | "
                f"{_mean_std([r['accuracy'] for r in rs])} | "
                f"{_mean_std([r['entropy_out'] for r in rs])} | "
                f"{_mean_std([r['entropy_in'] for r in rs])} | "
                f"{_published(d, m, loss)} |")
        lines.append("")
    imp = _groups(records, "imp", ("dataset", "model", "loss", "rewarded", "stage"))
    if imp:
        lines += ["## IMP subnetworks (test set, each on its own classes)", "",
                  "| dataset | model | loss | R | stage | seeds | sparsity | R-Acc | H_out |",
                  "|---|---|---|---|---|---|---|---|---|"]
        pooled: dict[tuple, list] = {}
        for key, rs in imp.items():
            lines.append(f"| {' | '.join(key[:4])} | {key[4]} | {len(rs)} | "
                         f"{_mean_std([r['sparsity'] for r in rs])} | "
                         f"{_mean_std([r['r_acc'] for r in rs])} | "
                         f"{_mean_std([r['entropy_out'] for r in rs])} |")
            if "-" not in key[3]:  # one rewarded class: pooled below, as for the table
                pooled.setdefault(key[:3] + key[4:], []).append((key[3], rs))
        for (d, m, loss, stage), groups in pooled.items():
            if len(groups) < 2:
                continue
            rs = [r for _, group in groups for r in group]
            lines.append(f"| {d} | {m} | {loss} | each of {{{','.join(g for g, _ in groups)}}}, "
                         f"pooled | {stage} | {len(rs)} | "
                         f"{_mean_std([r['sparsity'] for r in rs])} | "
                         f"{_mean_std([r['r_acc'] for r in rs])} | "
                         f"{_mean_std([r['entropy_out'] for r in rs])} |")
        lines.append("")
    merge = _groups(records, "merge", ("dataset", "model", "loss", "modules", "rewarded"))
    if merge:
        lines += ["## Merged subnetworks θ = Σ θ_i ⊙ m_i (accuracy on the union of classes)", "",
                  "| dataset | model | loss | modules | classes | seeds | union acc | "
                  "R-Acc of each module's classes |", "|---|---|---|---|---|---|---|---|"]
        for (d, m, loss, j, rw), rs in merge.items():
            per = ", ".join(_mean_std([r["module_r_acc"][i] for r in rs]) for i in range(j))
            lines.append(f"| {d} | {m} | {loss.upper()} | {j} | {rw} | {len(rs)} | "
                         f"{_mean_std([r['union_accuracy'] for r in rs])} | {per} |")
        lines.append("")
    methods = _groups(records, "methods", ("dataset", "model", "loss", "modules", "rewarded"))
    if methods:
        lines += ["## Three merges of the same modules: the paper's, task arithmetic, TIES", "",
                  "Union accuracy (test) and the largest loss barrier (ME loss on the union) "
                  "along the straight paths from each masked module to the merged model; "
                  "λ of task arithmetic and TIES chosen on the validation split (mean over "
                  "seeds in brackets).", "",
                  "| dataset | model | loss | modules | classes | seeds | paper's merge: union "
                  "acc | barrier | task arithmetic: union acc | barrier | TIES: union acc | "
                  "barrier |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for (d, m, loss, j, rw), rs in methods.items():
            cells = []
            for method in ("maxent", "task_arithmetic", "ties"):
                mine = [r for r in rs if r["method"] == method]
                lam = [r["scale"] for r in mine if r["scale"] is not None]
                tag = f" (λ {np.mean(lam):.2f})" if lam else ""
                cells += [_mean_std([r["union_accuracy"] for r in mine]) + tag,
                          _mean_std([r["barrier"] for r in mine])]
            seeds = len({r["seed"] for r in rs})
            lines.append(f"| {d} | {m} | {loss.upper()} | {j} | {rw} | {seeds} | "
                         + " | ".join(cells) + " |")
        lines.append("")
    paths = _groups(records, "path", ("dataset", "model", "loss"))
    if paths:
        lines += ["## Connectivity between modules 1 and 2 (ME loss on the union of classes)", "",
                  "| dataset | model | loss | seeds | barrier, merge path | barrier, linear | "
                  "union acc at merge (t = ½) |", "|---|---|---|---|---|---|---|"]
        for (d, m, loss), rs in paths.items():
            mid = [r["merge"]["accuracies"][len(r["merge"]["ts"]) // 2] for r in rs]
            lines.append(f"| {d} | {m} | {loss.upper()} | {len(rs)} | "
                         f"{_mean_std([r['merge']['barrier'] for r in rs])} | "
                         f"{_mean_std([r['linear']['barrier'] for r in rs])} | "
                         f"{_mean_std(mid)} |")
        lines.append("")
    return "\n".join(lines)


def table_rows(records: list[dict]) -> list[dict]:
    """Accuracy rows for :func:`jaxrg.plots.plot_accuracy_table` (percent, mean ± sample std).

    One row per (dataset, model, R) with the dense networks' R-Acc for each loss, then one row per
    (dataset, model, number of modules) with the merged network's accuracy on the union of the
    modules' classes.

    Args:
        records: lines of ``results.jsonl`` (the last record of each unit counts).

    Returns:
        ``[{"label": str, "cells": {loss: [{"mean", "std", "note"}]}}, ...]`` in percent.
    """
    records = _latest(records)

    def cell(values):
        arr = 100.0 * np.asarray(values, dtype=np.float64)
        return [{"mean": float(arr.mean()),
                 "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
                 "note": f"n={arr.size}"}]

    rows = []
    table = _groups(records, "table", ("dataset", "model", "rewarded", "loss"))
    for d, m, rw in dict.fromkeys(key[:3] for key in table):
        cells = {loss.upper(): cell([r["r_acc"] for r in table[(d, m, rw, loss)]])
                 for loss in LOSSES if (d, m, rw, loss) in table}
        rows.append({"label": f"{d} {m}\nR-Acc, R = {{{rw.replace('-', ',')}}}", "cells": cells})
    # one row per split of the classes into groups: prefixes of different splits are different
    # sets of classes and are not pooled
    merge = _groups([r | {"groups": r.get("groups", "")} for r in records], "merge",
                    ("dataset", "model", "groups", "modules", "loss"))
    for d, m, g, j in dict.fromkeys(key[:4] for key in merge):
        cells = {loss.upper(): cell([r["union_accuracy"] for r in merge[(d, m, g, j, loss)]])
                 for loss in LOSSES if (d, m, g, j, loss) in merge}
        split = f", groups {g}" if g else ""
        rows.append({"label": f"{d} {m}{split}\n{j} module{'s' * (j > 1)} merged,\n"
                              "union accuracy", "cells": cells})
    return rows


def plot_all(out, records: list[dict]) -> list[pathlib.Path]:
    """The accuracy table, entropy vs R-Acc per loss, connectivity paths, merge accuracy vs
    modules and the three merge methods (PNG files in ``out``; each written atomically).

    Args:
        out: results folder.
        records: lines of ``out/results.jsonl``.

    Returns:
        The paths written (``table.png``, ``entropy_vs_racc.png``, ``connectivity.png``,
        ``merge_accuracy.png``, ``merge_methods.png``; those whose experiments have records).
    """
    from jaxrg.plots import plot_accuracy_table
    from jaxrg.plots._common import panel_grid, pyplot, save

    plt = pyplot()
    out = pathlib.Path(out)
    records = _latest(records)
    written = []
    rows = table_rows(records)
    if rows:
        fig = plot_accuracy_table(rows, variants=[loss.upper() for loss in LOSSES],
                                  xlabel="accuracy (%, test set)",
                                  title="MaxEnt subnetworks: mean ± std over seeds")
        written.append(save(fig, out / "table.png"))
    colours = {"me": "tab:blue", "qme": "tab:orange", "xe": "tab:red"}
    table = [r for r in records if r["experiment"] == "table"]
    if table:
        panels = sorted({(r["dataset"], r["rewarded"]) for r in table})
        fig, axes = panel_grid(len(panels), panel=(4.5, 3.8))
        for ax, (d, rw) in zip(axes, panels, strict=True):
            for loss in LOSSES:
                rs = [r for r in table if (r["dataset"], r["rewarded"], r["loss"]) ==
                      (d, rw, loss)]
                if rs:
                    ax.scatter([r["r_acc"] for r in rs], [r["entropy_out"] for r in rs],
                               color=colours[loss], label=loss.upper(), alpha=0.8)
            c = NUM_CLASSES.get(d, 10)
            ax.axhline(math.log(c), color="grey", ls="--", lw=1, label=f"log {c}")
            ax.set(title=f"{d}, R = {{{rw.replace('-', ',')}}}", xlabel="R-Acc (test)",
                   ylabel="mean entropy outside R (nats)")
            ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(save(fig, out / "entropy_vs_racc.png"))
    paths = [r for r in records if r["experiment"] == "path"]
    if paths:
        # one pair of panels (loss, accuracy) per setting; per loss and path kind the mean over
        # seeds with a band from the lowest to the highest seed, so the legend stays four lines
        settings = sorted({(r["dataset"], r["model"], r["rewarded"]) for r in paths})
        fig, axes = panel_grid(2 * len(settings), panel=(4.5, 3.4), max_columns=4)
        handles = {}
        for k, setting in enumerate(settings):
            mine = [r for r in paths if (r["dataset"], r["model"], r["rewarded"]) == setting]
            name = f"{setting[0]} {setting[1]}, R = {setting[2]}"
            for ax, field, ylabel in ((axes[2 * k], "losses", "ME loss on R1 ∪ R2"),
                                      (axes[2 * k + 1], "accuracies", "accuracy on R1 ∪ R2")):
                for loss in LOSSES:
                    rs = [r for r in mine if r["loss"] == loss]
                    for kind, ls in (("merge", "-"), ("linear", ":")):
                        if not rs:
                            continue
                        ts = np.asarray(rs[0][kind]["ts"])
                        ys = np.asarray([r[kind][field] for r in rs])
                        line, = ax.plot(ts, ys.mean(axis=0), ls=ls, color=colours[loss])
                        if len(rs) > 1:
                            ax.fill_between(ts, ys.min(axis=0), ys.max(axis=0),
                                            color=colours[loss], alpha=0.12, lw=0)
                        handles.setdefault(f"{loss.upper()}, {kind} path", line)
                seeds = len({r["seed"] for r in mine})
                ax.set(xlabel="t", ylabel=ylabel,
                       title=f"{name} ({seeds} seed{'s' if seeds > 1 else ''})")
                ax.title.set_fontsize(8)
        fig.legend(list(handles.values()), list(handles), loc="upper center", ncol=4,
                   fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.0))
        fig.tight_layout(rect=(0, 0, 1, 0.97))
        written.append(save(fig, out / "connectivity.png"))
    merge = [r for r in records if r["experiment"] == "merge"]
    if merge:
        # one line per (dataset, model, split into groups, loss): the mean over seeds
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        styles, markers = ["-", "--", ":", "-."], ["o", "s", "^", "D", "v", "P", "X"]
        runs = sorted({(r["dataset"], r["model"], r.get("groups", "")) for r in merge})
        for i, (d, m, g) in enumerate(runs):
            for loss in LOSSES:
                rs = [r for r in merge if (r["dataset"], r["model"], r.get("groups", ""),
                                           r["loss"]) == (d, m, g, loss)]
                if not rs:
                    continue
                js = sorted({r["modules"] for r in rs})
                means = [np.mean([r["union_accuracy"] for r in rs if r["modules"] == j])
                         for j in js]
                ax.plot(js, means, marker=markers[i % len(markers)], color=colours[loss],
                        ls=styles[i % len(styles)], label=f"{d} {m} {g} {loss.upper()}")
        ax.set(xlabel="number of merged modules", ylabel="accuracy on the union of classes",
               ylim=(0, 1.02))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
        written.append(save(fig, out / "merge_accuracy.png"))
    methods = [r for r in records if r["experiment"] == "methods"]
    if methods:
        # the three merges side by side: one panel per (dataset, model, split, loss)
        runs = sorted({(r["dataset"], r["model"], r["groups"], r["loss"]) for r in methods})
        fig, axes = panel_grid(len(runs), panel=(3.4, 2.9))
        names = {"maxent": "paper's sum", "task_arithmetic": "task arithmetic", "ties": "TIES"}
        for ax, key in zip(axes, runs, strict=False):
            rs = [r for r in methods if (r["dataset"], r["model"], r["groups"], r["loss"]) == key]
            for method, colour in zip(names, ("C0", "C1", "C2"), strict=True):
                mine = [r for r in rs if r["method"] == method]
                js = sorted({r["modules"] for r in mine})
                vals = [[r["union_accuracy"] for r in mine if r["modules"] == j] for j in js]
                ax.errorbar(js, [np.mean(v) for v in vals],
                            yerr=[np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in vals],
                            marker="o", color=colour, capsize=2, label=names[method])
            ax.set_title(f"{key[0]} {key[1]}, {key[3].upper()}\ngroups {key[2]}", fontsize=8)
            ax.set(xlabel="modules merged", ylabel="union accuracy")
            ax.xaxis.get_major_locator().set_params(integer=True)
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        written.append(save(fig, out / "merge_methods.png"))
    return written


def collect(sources, out) -> _io.Collected:
    """Add the records of other results folders (another machine, a GPU) to ``out``.

    Every record whose key (:data:`KEY_FIELDS`; records older than ``init`` read as Flax
    initialisation) ``out/results.jsonl`` lacks is appended; a key already there keeps its
    record, so collecting twice adds nothing (:func:`jaxrg._io.collect_jsonl`).

    Args:
        sources: results folders (their ``results.jsonl``) or ``.jsonl`` files.
        out: the results folder to extend.

    Returns:
        The :class:`jaxrg._io.Collected` counts.

    Raises:
        FileNotFoundError: a missing source.
        ValueError: a source line that is not a record of this study (the message names it).
    """
    paths = [p / "results.jsonl" if p.is_dir() else p for p in map(pathlib.Path, sources)]
    return _io.collect_jsonl(paths, pathlib.Path(out) / "results.jsonl",
                             lambda r: tuple(_with_defaults(r)[f] for f in KEY_FIELDS),
                             compare=("r_acc", "accuracy", "entropy_out"))


def report(out, *, figures: bool = True) -> str:
    """Write ``out/table.md`` (and the figures) from ``out/results.jsonl``; return the table."""
    out = pathlib.Path(out)
    path = out / "results.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"no results in {out}: run `jaxrg study maxent run` first")
    records = _records(path)
    text = "# Maximum-entropy subnetworks: results (mean (std) over seeds)\n\n" + (
        summary_table(records))
    _io.atomic_write_text(out / "table.md", text)
    if figures:
        plot_all(out, records)
    return text
