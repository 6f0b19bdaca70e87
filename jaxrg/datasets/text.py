"""tiny-shakespeare (karpathy/char-rnn): a plain-text corpus for training small language models.

The file ``text/input.txt`` (1,115,394 ASCII characters, 65 distinct) is read from ``data_dir``,
else ``$JAXRG_DATA``, else ``~/.cache/jaxrg``.
"""

from __future__ import annotations

import os

from jaxrg.datasets._paths import resolve_data_dir

__all__ = [
    "TEXT_FILE",
    "load_text",
]

TEXT_FILE = "text/input.txt"


def load_text(data_dir: str | os.PathLike | None = None) -> str:
    """The tiny-shakespeare corpus as one string.

    Args:
        data_dir: folder holding ``text/input.txt`` (default ``$JAXRG_DATA``, else the cache).

    Returns:
        The text (``str``).

    Raises:
        FileNotFoundError: the file is missing (the message says where to put it).
    """
    path = resolve_data_dir(data_dir) / TEXT_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"no text corpus at {path}: put tiny-shakespeare's input.txt (karpathy/char-rnn, "
            "data/tinyshakespeare/input.txt) there, or set JAXRG_DATA / --data-dir."
        )
    return path.read_text(encoding="utf-8")
