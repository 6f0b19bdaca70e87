"""``jaxrg entropy``: Rényi entropies of a logits file; ``jaxrg entropy-lens profile|analyse``:
the lens on your own model (and, for one more release, the old spelling of ``jaxrg study
entropy-lens``)."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import pathlib
import tempfile
import zipfile
import zlib

import jax
import numpy as np

from jaxrg import _io, info
from jaxrg._optional import MissingDependency
from jaxrg._ranges import AT_LEAST_1, AT_LEAST_2, NON_NEGATIVE, require
from jaxrg.cli import CLIError
from jaxrg.cli._study import unavailable, unavailable_parser

_BLOCK_ELEMENTS = 1 << 24  # logits per block: 64 MiB of float32 in memory at a time


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "entropy",
        help="Shannon/Rényi entropies of a logits (or probabilities) file",
        description="Rényi entropies H_alpha (nats) of softmax(logits) along one axis of a .npy "
        "or .npz array, computed in log domain; the file is read block by block (memory-mapped "
        ".npy), and --chunk also streams the category axis.",
    )
    parser.add_argument("logits", type=pathlib.Path, help="a .npy or .npz file of logits")
    parser.add_argument(
        "--alpha",
        type=float,
        nargs="+",
        default=[1.0],
        help="Rényi orders (>= 0; 1 = Shannon, inf = min-entropy; default 1)",
    )
    parser.add_argument("--axis", type=int, default=-1, help="category axis (default -1)")
    parser.add_argument(
        "--chunk",
        type=int,
        default=None,
        help="stream the category axis in chunks of this many entries",
    )
    parser.add_argument("--key", help="array name inside a .npz with several arrays")
    parser.add_argument(
        "--probs",
        action="store_true",
        help="the file holds probabilities (rows summing to 1), not logits",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        help="write the entropies here (.csv or .json); default: print a summary",
    )
    parser.add_argument(
        "--png",
        type=pathlib.Path,
        help="plot H_alpha against alpha (median, quartiles, range) here; a 2-D batch "
        "(e.g. layers x tokens) adds one heatmap per alpha",
    )
    parser.set_defaults(func=run)

    lens = subparsers.add_parser(
        "entropy-lens", help="Entropy-Lens on your model's logits (profile, analyse); without an "
        "action, alias of 'jaxrg study entropy-lens run' (goes in the next release)",
        description="Entropy profiles and the paper's k-NN analysis of your own model "
        "(profile, analyse). Without an action, or with 'families', the old spelling of "
        "'jaxrg study entropy-lens run|families' (goes in the next release).")
    actions = lens.add_subparsers(
        dest="lens_command",
        metavar="ACTION",
        help="without an action: the first reproduction (6 models); options before the action",
    )
    prof = actions.add_parser(
        "profile",
        help="entropy profiles from your model's logit-lens logits (.npy/.npz)",
        description="Entropy profiles H_alpha (nats) of an array of logit-lens logits of shape "
        "(..., layers, tokens, vocab), e.g. (models, prompts, layers, tokens, vocab) "
        "(jaxrg.lens.logit_profiles); with --unembedding, of hidden states (..., layers, "
        "tokens, d) projected through a (d, vocab) matrix (jaxrg.lens.entropy_profile).",
    )
    prof.add_argument("logits", type=pathlib.Path, help=".npy or .npz file")
    prof.add_argument("--key", help="array name inside a .npz with several arrays")
    prof.add_argument("--alpha", type=float, nargs="+", default=[1.0],
                      help="Rényi orders (default 1, the paper's Shannon entropy)")
    prof.add_argument("--unembedding", type=pathlib.Path,
                      help="a (d, vocab) .npy matrix: the input holds hidden states, not logits")
    prof.add_argument("--chunk", type=int, default=None,
                      help="stream the vocabulary in chunks of this many entries")
    prof.add_argument("--out", type=pathlib.Path, required=True,
                      help="write profiles (alpha, ..., layers, tokens) and alpha to this .npz")
    prof.set_defaults(func=run_lens_profile)
    ana = actions.add_parser(
        "analyse",
        help="the paper's k-NN analysis (10-fold, macro-F1) of labelled profiles",
        description="k-NN (k=29, Euclidean, uniform votes) under 10-fold stratified CV on "
        "entropy profiles, against a stratified dummy (jaxrg.lens.analyse_profiles). Profiles: "
        "files from 'profile' (.npz) or (N, ..., layers, tokens) .npy arrays; several files "
        "(e.g. one per model, depths may differ with --depth-points).",
    )
    ana.add_argument("profiles", type=pathlib.Path, nargs="+", help="profile files")
    ana.add_argument("--labels", required=True, nargs="+",
                     help="one label per file, or a .npy/.txt file of one label per profile "
                     "(or per entry of the first axis)")
    ana.add_argument("--alpha", type=float, default=1.0,
                     help="which order of an .npz from 'profile' (default 1)")
    ana.add_argument("--windows", type=int, default=1, help="token windows (default 1)")
    ana.add_argument("--depth-points", type=int, default=None,
                     help="resample layers on this many normalised depths")
    ana.add_argument("--k", type=int, default=29, help="neighbours (default 29)")
    ana.add_argument("--folds", type=int, default=10, help="folds (default 10)")
    ana.add_argument("--seed", type=int, default=0, help="fold and dummy seed (default 0)")
    ana.add_argument("--out", type=pathlib.Path, help="also write the scores to this .json")
    ana.set_defaults(func=run_lens_analyse)
    _study_aliases(lens, actions)


def _study_aliases(lens, actions) -> None:
    """The old spellings of the study on ``lens``: its own options (= run) and ``families``."""
    try:
        from jaxrg.studies.entropy_lens import cli as study
    except MissingDependency as err:  # profile and analyse need no study package
        lens.set_defaults(func=unavailable(err))
        unavailable_parser(actions, "families", err)
        return
    study.add_run_options(lens)
    study.add_families_options(actions.add_parser("families", **study.FAMILIES))


def load_array(path: pathlib.Path, key: str | None = None) -> np.ndarray:
    """A numeric array from ``.npy`` (memory-mapped) or ``.npz``, with clear errors."""
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a .npy or .npz file of logits.")
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise ValueError(f"{path}: unsupported file type {suffix!r}; give a .npy or .npz file "
                         "(e.g. np.save('logits.npy', logits)).")
    try:
        if suffix == ".npy":
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        else:  # our own handle: np.load leaks it when the archive is corrupt
            with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
                names = list(archive.files)
                if key is None and len(names) != 1:
                    raise CLIError(f"{path} holds arrays {names}; choose one with --key.")
                name = key if key is not None else names[0]
                if name not in names:
                    raise CLIError(f"{path} has no array {name!r}; it holds {names}.")
                array = archive[name]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        # e.g. "mmap length is greater than file size" for a .npy cut short
        raise ValueError(f"{path}: cannot read the {suffix} file ({err}); it is truncated, "
                         "corrupt or not a numeric array - write it again (np.save / np.savez)."
                         ) from err
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{path} holds {array.dtype} data; logits must be real numbers.")
    if array.ndim == 0:
        raise ValueError(f"{path} holds a scalar; logits need a category axis.")
    return array


def entropies(array: np.ndarray, alphas, *, axis=-1, chunk=None, probs=False) -> np.ndarray:
    """``(len(alphas),) + batch`` entropies, reading ``array`` in blocks of leading rows."""
    if not -array.ndim <= axis < array.ndim:
        raise ValueError(f"--axis {axis} is out of range for an array of shape {array.shape}.")
    moved = np.moveaxis(array, axis, -1)
    batch, v = moved.shape[:-1], moved.shape[-1]
    rows = moved.reshape(-1, v) if moved.flags.c_contiguous or moved.ndim == 1 else None
    n = int(np.prod(batch, dtype=np.int64))
    step = max(1, _BLOCK_ELEMENTS // max(v, 1))
    alphas = np.asarray(alphas, dtype=float)
    x64 = array.dtype == np.float64
    out = []
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
        a = alphas.astype(np.float64 if x64 else np.float32)
        for start in range(0, max(n, 1), step):
            if rows is not None:
                block = np.asarray(rows[start : start + step])
            else:  # a non-contiguous view (axis != -1): gather this block's rows
                index = np.unravel_index(np.arange(start, min(n, start + step)), batch)
                block = np.asarray(moved[index])
            if probs:
                h = info.renyi_entropy_from_probs(block, a)
            elif chunk:
                h = info.renyi_entropy_chunked(block, a, chunk_size=chunk)
            else:
                h = info.renyi_entropy(block, a)
            out.append(np.asarray(h, dtype=np.float64))
    return np.concatenate(out, axis=1).reshape((alphas.size,) + batch)


def run(args) -> int:
    if args.chunk is not None and args.chunk < 1:
        raise ValueError(f"--chunk must be >= 1; got {args.chunk}.")
    array = load_array(args.logits, args.key)
    h = entropies(array, args.alpha, axis=args.axis, chunk=args.chunk, probs=args.probs)
    batch = h.shape[1:]
    if args.png is not None:
        from jaxrg.plots import plot_renyi_profiles, save

        categories = np.moveaxis(array, args.axis, -1).shape[-1]
        save(plot_renyi_profiles(args.alpha, h, num_categories=categories,
                                 title=args.logits.name), args.png)
    if args.out is None:
        print(
            f"{args.logits}: {int(np.prod(batch))} distributions over "
            f"{np.moveaxis(array, args.axis, -1).shape[-1]} categories, batch shape {batch}"
        )
        for a, values in zip(args.alpha, h, strict=True):
            print(
                f"  H_{a:g}: mean {values.mean():.6g}  min {values.min():.6g}  "
                f"max {values.max():.6g} (nats)"
            )
        return 0
    suffix = args.out.suffix.lower()
    if suffix == ".json":
        _io.atomic_write_json(
            args.out,
            {
                "alpha": list(args.alpha),
                "batch_shape": list(batch),
                "unit": "nats",
                "entropy": h.tolist(),
            },
            label="--out",
        )
    elif suffix == ".csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow([f"index{i}" for i in range(len(batch))] + [f"H_{a:g}" for a in args.alpha])
        flat = h.reshape(len(args.alpha), -1)
        for j, idx in enumerate(np.ndindex(*batch)):
            writer.writerow(list(idx) + [repr(float(x)) for x in flat[:, j]])
        _io.atomic_write_text(args.out, buf.getvalue(), label="--out")
    else:
        raise ValueError(f"--out must end in .csv or .json; got {args.out.name!r}.")
    print(f"wrote {h.size} entropies to {args.out}")
    return 0


def _load_profiles(path: pathlib.Path, alpha: float) -> np.ndarray:
    """Profiles ``(N, ..., L, T)`` from a 'profile' ``.npz`` (one order) or a ``.npy``."""
    if path.suffix.lower() == ".npz" and path.exists():
        with np.load(path, allow_pickle=False) as f:
            if "profiles" in f.files and "alpha" in f.files:
                alphas = list(f["alpha"])
                if alpha not in alphas:
                    raise ValueError(f"{path} holds alpha {alphas}; choose one with --alpha.")
                return np.asarray(f["profiles"][alphas.index(alpha)])
    return np.asarray(load_array(path))


def _load_labels(values: list[str]) -> np.ndarray:
    if len(values) == 1 and pathlib.Path(values[0]).suffix.lower() in (".npy", ".txt"):
        path = pathlib.Path(values[0])
        if not path.exists():
            raise FileNotFoundError(f"no such labels file: {path}")
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False)
        return np.array(path.read_text(encoding="utf-8").split())
    return np.array(values)  # checked against the profiles by analyse_profiles


def run_lens_profile(args) -> int:
    from jaxrg.lens import entropy_profile, logit_profiles

    if args.chunk is not None and args.chunk < 1:
        raise ValueError(f"--chunk must be >= 1; got {args.chunk}.")
    if args.out.suffix.lower() != ".npz":
        raise ValueError(f"--out must end in .npz; got {args.out.name!r}.")
    array = np.asarray(load_array(args.logits, args.key))
    alpha = np.asarray(args.alpha, dtype=array.dtype if array.dtype.kind == "f" else float)
    if args.unembedding is not None:
        w = np.asarray(load_array(args.unembedding))
        h = np.asarray(entropy_profile(array, w, alpha, chunk_size=args.chunk or 8192))
    else:
        h = np.asarray(logit_profiles(array, alpha, chunk_size=args.chunk))
    fd, tmp = tempfile.mkstemp(dir=args.out.resolve().parent, suffix=".npz")
    os.close(fd)
    np.savez(tmp, profiles=h, alpha=np.asarray(args.alpha, dtype=float))
    _io.publish(tmp, args.out)
    print(f"{args.logits}: profiles of shape {h.shape[1:]} (..., layers, tokens) for alpha "
          f"{list(args.alpha)} -> {args.out}")
    for a, values in zip(args.alpha, h, strict=True):
        print(f"  H_{a:g}: mean {values.mean():.6g}  min {values.min():.6g}  "
              f"max {values.max():.6g} (nats)")
    return 0


def run_lens_analyse(args) -> int:
    from jaxrg.lens import analyse_profiles

    for option, rule in (("--windows", AT_LEAST_1), ("--depth-points", AT_LEAST_2),
                         ("--k", AT_LEAST_1), ("--folds", AT_LEAST_2), ("--seed", NON_NEGATIVE)):
        require(args, option, rule)
    arrays = [_load_profiles(p, args.alpha) for p in args.profiles]
    for path, array in zip(args.profiles, arrays, strict=True):
        if np.ndim(array) < 3:
            raise ValueError(
                f"{path}: profiles must have shape (N, ..., layers, tokens), e.g. the output of "
                f"`jaxrg entropy-lens profile`; got shape {np.shape(array)}."
            )
    labels = _load_labels(args.labels)
    cv = analyse_profiles(arrays if len(arrays) > 1 else arrays[0], labels,
                          num_windows=args.windows, depth_points=args.depth_points, k=args.k,
                          num_folds=args.folds, seed=args.seed)
    s = cv.summary()
    print(f"k-NN (k={args.k}, {args.folds}-fold): macro-F1 {s['f1']:.4f} ± {s['f1_std']:.4f}, "
          f"accuracy {s['accuracy']:.4f}, ROC-AUC {s['roc_auc']:.4f}; stratified dummy "
          f"macro-F1 {s['dummy_f1']:.4f}, ROC-AUC {s['dummy_roc_auc']:.4f}; "
          f"p (AUC vs dummy) {s['p_value']:.2g}")
    if args.out is not None:
        _io.atomic_write_json(args.out, {"k": args.k, "folds": args.folds, **s}, label="--out")
    return 0
