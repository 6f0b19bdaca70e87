"""The documentation site builds with warnings as errors (``mkdocs build --strict``).

Broken links, unresolved cross-references and docstrings that griffe cannot parse fail the
build. Needs the ``docs`` extra; skipped with a reason without it (``.ci/run`` installs it).
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def _page_sources():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return [line.split(": ", 1)[1].strip() for line in nav.splitlines()
            if line.strip().startswith("- ") and line.rstrip().endswith(".md")]


def test_every_handwritten_page_in_the_nav_exists():
    generated = ("notebooks/", "reproduction/", "benchmarks/")  # made by docs/hooks.py
    pages = _page_sources()
    assert len(pages) >= 20
    for page in pages:
        if not page.startswith(generated):
            assert (ROOT / "docs" / page).is_file(), page
    notebooks = {f"notebooks/{p.stem}.md" for p in (ROOT / "notebooks").glob("*.py")}
    assert notebooks <= set(pages), "a notebook is missing from the site's nav"


@pytest.mark.slow
def test_site_builds_strictly(tmp_path):
    reason = "the docs extra is not installed: pip install -e '.[docs]'"
    pytest.importorskip("mkdocs", reason=reason)
    pytest.importorskip("mkdocstrings", reason=reason)
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    for page in ("index.html", "api/lrg/index.html", "notebooks/lrg/index.html",
                 "reproduction/maxent/index.html", "benchmarks/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
