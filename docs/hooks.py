"""MkDocs hook: pages made from files that live outside ``docs/`` (so they have one home).

* ``notebooks/*.py`` (jupytext percent format) → ``notebooks/<name>.md``: markdown cells as text,
  code cells as Python blocks (the notebooks are executed by the tests, not by the docs build);
* ``results/<study>/README.md`` and its figures → ``reproduction/<study>/``, with every figure of
  the study shown under "Figures";
* ``benchmarks/README.md`` and ``benchmarks/results/*.md`` → ``benchmarks/``.
"""

from __future__ import annotations

import pathlib
import re

from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parents[1]


def notebook_markdown(source: str) -> str:
    """Markdown of a jupytext percent-format script: text cells unwrapped, code cells fenced."""
    cells = re.split(r"^# %%(.*)$", source, flags=re.M)
    parts = []
    for header, body in zip(cells[1::2], cells[2::2], strict=True):
        body = body.strip("\n")
        if not body.strip():
            continue
        if "[markdown]" in header:
            parts.append("\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines()))
        else:
            parts.append(f"```python\n{body}\n```")
    return "\n\n".join(parts) + "\n"


def _page(config, uri: str, content: str) -> File:
    return File.generated(config, uri, content=content)


def on_config(config):
    """Read ``Example:`` sections (Google style, used throughout jaxrg) as code examples.

    griffe knows only the plural ``Examples:``; without this its singular twin is rendered as
    prose, and doctest outputs such as ``[0, 1]`` then read as broken Markdown link references.
    """
    try:
        from griffe import DocstringSectionKind
        from griffe._internal.docstrings import google
    except ImportError:  # another griffe layout: Example sections render as prose
        return config
    google._section_kind.setdefault("example", DocstringSectionKind.examples)
    return config


def on_files(files, config):
    for script in sorted((ROOT / "notebooks").glob("*.py")):
        text = notebook_markdown(script.read_text(encoding="utf-8"))
        link = f"*Source: `notebooks/{script.name}`; run it with `python notebooks/{script.name}`.*"
        files.append(_page(config, f"notebooks/{script.stem}.md", f"{text}\n{link}\n"))
    for study in sorted(p for p in (ROOT / "results").iterdir() if (p / "README.md").is_file()):
        text = (study / "README.md").read_text(encoding="utf-8")
        figures = sorted(study.glob("*.png"))
        if figures:
            text += "\n\n## Figures\n\n" + "\n\n".join(
                f"![{png.stem}]({png.name})" for png in figures) + "\n"
        files.append(_page(config, f"reproduction/{study.name}/index.md", text))
        for png in figures:
            files.append(File.generated(config, f"reproduction/{study.name}/{png.name}",
                                        abs_src_path=str(png)))
    bench = ROOT / "benchmarks"
    files.append(_page(config, "benchmarks/index.md",
                       (bench / "README.md").read_text(encoding="utf-8")))
    for table in sorted((bench / "results").glob("*.md")):
        files.append(_page(config, f"benchmarks/results/{table.name}",
                           table.read_text(encoding="utf-8")))
    return files
