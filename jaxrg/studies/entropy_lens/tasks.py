r"""Synthetic sequence tasks and their tokenisation for the Entropy-Lens reproduction.

One vocabulary of 18 tokens: digits ``0-9``, ``BOS``, ``SEP`` ("="), ``EOS``, ``PAD`` and one
token per task. Every example is ``[BOS, TASK, x_1..x_6, SEP, y_1..y_m, EOS]`` padded to 16:

- ``copy``: :math:`y = x`;
- ``sort``: :math:`y = \mathrm{sort}(x)`;
- ``count``: :math:`y_i = |\{j : x_j = x_i\}|` (the histogram task);
- ``add``: modular arithmetic, :math:`x = (a, b)` two 3-digit numbers, one answer token
  :math:`y = (a + b) \bmod 10` (the last digit of the sum; the leading digits are distractors).
  The hardest task here: learnt only partly at this scale, so its answers are right or wrong
  (with the carried tens digit too, trial runs left the tens digit at chance).

Tasks are drawn with probabilities :data:`TASK_WEIGHTS` (addition twice as often).

Every prompt ``[BOS, TASK, x, SEP]`` has length 9, so all tasks batch together.

Example:
    >>> import numpy as np
    >>> b = sample_batch(np.random.default_rng(0), 4, tasks=("sort",))
    >>> decode(b.tokens[0])
    'BOS sort 1 8 6 9 5 6 = 1 5 6 6 8 9 EOS'
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "ANSWER_LEN",
    "Batch",
    "INPUT_WEIGHT",
    "PROMPT_LEN",
    "SEQ_LEN",
    "TASKS",
    "TASK_TOKEN",
    "TASK_WEIGHTS",
    "VOCAB_SIZE",
    "answers",
    "decode",
    "sample_batch",
]

TASKS = ("copy", "sort", "count", "add")
BOS, SEP, EOS, PAD = 10, 11, 12, 13
TASK_TOKEN = {name: 14 + i for i, name in enumerate(TASKS)}
VOCAB_SIZE = 18
SEQ_LEN = 16
PROMPT_LEN = 9
ANSWER_LEN = {"copy": 6, "sort": 6, "count": 6, "add": 1}
TASK_WEIGHTS = {"copy": 0.2, "sort": 0.2, "count": 0.2, "add": 0.4}
#: The input digits are uniform noise (loss log 10 at best); a small weight keeps them in the
#: model's distribution (for BOS-only sampling) without drowning the answers' gradient.
INPUT_WEIGHT = 0.1
_NAMES = {BOS: "BOS", SEP: "=", EOS: "EOS", PAD: "PAD", **{v: k for k, v in TASK_TOKEN.items()}}


class Batch(NamedTuple):
    """Examples as arrays: ``tokens (n, 16)``; ``weight (n, 16)`` the loss weight of predicting
    each token (0 for padding, :data:`INPUT_WEIGHT` for the random input digits, 1 otherwise);
    ``task (n,)`` index into :data:`TASKS`; ``answer (n, 6)`` (PAD beyond the answer length)."""

    tokens: np.ndarray
    weight: np.ndarray
    task: np.ndarray
    answer: np.ndarray


def answers(task: str, x: np.ndarray) -> np.ndarray:
    """The answer digits of ``task`` for inputs ``x`` of shape ``(n, 6)``."""
    if task == "copy":
        return x.copy()
    if task == "sort":
        return np.sort(x, axis=1)
    if task == "count":
        return (x[:, :, None] == x[:, None, :]).sum(-1)
    if task == "add":
        a = x[:, 0] * 100 + x[:, 1] * 10 + x[:, 2]
        b = x[:, 3] * 100 + x[:, 4] * 10 + x[:, 5]
        return ((a + b) % 10)[:, None]
    raise ValueError(f"unknown task {task!r}; choose from {TASKS}.")


def sample_batch(rng: np.random.Generator, n: int, *, tasks=TASKS) -> Batch:
    """``n`` examples, tasks drawn from ``tasks`` with probabilities ∝ :data:`TASK_WEIGHTS`."""
    w = np.array([TASK_WEIGHTS[t] for t in tasks])
    task = rng.choice(len(tasks), size=n, p=w / w.sum())
    x = rng.integers(0, 10, (n, 6))
    tokens = np.full((n, SEQ_LEN), PAD, dtype=np.int32)
    answer = np.full((n, 6), PAD, dtype=np.int32)
    tokens[:, 0] = BOS
    tokens[:, 2:8] = x
    tokens[:, 8] = SEP
    for i, name in enumerate(tasks):
        rows = task == i
        m = ANSWER_LEN[name]
        y = answers(name, x[rows])
        tokens[rows, 1] = TASK_TOKEN[name]
        tokens[rows, PROMPT_LEN : PROMPT_LEN + m] = y
        tokens[rows, PROMPT_LEN + m] = EOS
        answer[rows, :m] = y
    global_task = np.array([TASKS.index(t) for t in tasks])[task]
    weight = (tokens != PAD).astype(np.float32)
    weight[:, 2:8] = INPUT_WEIGHT
    return Batch(tokens, weight, global_task, answer)


def decode(tokens) -> str:
    """Human-readable tokens (padding dropped)."""
    return " ".join(_NAMES.get(int(t), str(int(t))) for t in tokens if int(t) != PAD)
