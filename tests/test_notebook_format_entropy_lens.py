"""notebooks/entropy_lens.py is a well-formed jupytext percent notebook.

tests/test_notebooks.py runs it.
"""

import pathlib
import re

NOTEBOOK = pathlib.Path(__file__).parents[1] / "notebooks" / "entropy_lens.py"


def _cells(text: str) -> list[tuple[str, str]]:
    """(kind, source) of each ``# %%`` cell, the way jupytext's percent format splits them."""
    parts = re.split(r"^# %%(.*)$", text, flags=re.M)
    return [
        ("markdown" if "[markdown]" in head else "code", body)
        for head, body in zip(parts[1::2], parts[2::2], strict=True)
    ]


def test_notebook_is_a_percent_format_notebook_with_prose_and_code():
    text = NOTEBOOK.read_text(encoding="utf-8")
    assert "format_name: percent" in text.split("# %%")[0]  # the jupytext header
    cells = _cells(text)
    kinds = [k for k, _ in cells]
    assert kinds[0] == "markdown" and kinds.count("markdown") >= 5 and kinds.count("code") >= 5
    for kind, source in cells:
        if kind == "markdown":
            assert all(not line.strip() or line.startswith("#") for line in source.splitlines())
        else:
            compile(source, str(NOTEBOOK), "exec")  # every code cell is valid Python
    assert "JAXRG_FIGURES" in text  # figures go where the notebook runner asks
