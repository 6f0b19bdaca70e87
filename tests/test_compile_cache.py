"""The persistent compilation cache: where it lives, that a run fills it and a second process
reads it back, the off switch; for the CLI and for ``jaxrg.enable_compile_cache``.

Each run happens in a fresh process (the cache is a per-process JAX setting); the test
process itself runs with the cache off (root ``conftest.py``). Timings are in
``benchmarks/bench_cli_cache.py``, not here.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import jaxrg
from jaxrg import _compile_cache as _cache

RUN = "import sys; from jaxrg.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture
def clean_env(monkeypatch):
    for name in (_cache.ENV_DIR, _cache.ENV_OFF, "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_cache_dir_prefers_jaxrg_cache_dir_then_xdg_cache_home_then_home(clean_env, tmp_path):
    assert _cache.cache_dir() == pathlib.Path.home() / ".cache" / "jaxrg" / "compile"
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.cache_dir() == tmp_path / "xdg" / "jaxrg" / "compile"
    clean_env.setenv(_cache.ENV_DIR, str(tmp_path / "mine"))
    assert _cache.cache_dir() == tmp_path / "mine"


@pytest.mark.parametrize(("flag", "value", "off"), [
    (False, None, False), (False, "", False), (False, "0", False),
    (False, "1", True), (False, "yes", True), (True, None, True),
])
def test_cache_is_off_by_flag_or_environment_variable(clean_env, flag, value, off):
    if value is not None:
        clean_env.setenv(_cache.ENV_OFF, value)
    assert _cache.disabled(flag) is off


def _jaxrg(args, tmp_path, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in (_cache.ENV_DIR, _cache.ENV_OFF, "XDG_CACHE_HOME")}
    done = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True,
                          env=dict(base, JAX_PLATFORMS="cpu", **env), timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_cli_run_fills_the_cache_and_the_off_switches_leave_it_empty(tmp_path):
    logits = tmp_path / "logits.npy"
    np.save(logits, np.random.default_rng(0).normal(size=(4, 7)))
    command = ["entropy", str(logits), "--alpha", "1"]
    first = _jaxrg(command, tmp_path, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    entries = sorted(p.name for p in (tmp_path / "xdg" / "jaxrg" / "compile").iterdir())
    assert entries  # compiled programs written to $XDG_CACHE_HOME/jaxrg/compile
    # a second run reads them back and prints the same result
    assert _jaxrg(command, tmp_path, XDG_CACHE_HOME=str(tmp_path / "xdg")) == first
    off_flag = _jaxrg(["--no-compile-cache", *command], tmp_path,
                      JAXRG_CACHE_DIR=str(tmp_path / "flag"))
    off_env = _jaxrg(command, tmp_path, JAXRG_CACHE_DIR=str(tmp_path / "env"),
                     JAXRG_NO_COMPILE_CACHE="1")
    assert off_flag == off_env == first
    assert not (tmp_path / "flag").exists() and not (tmp_path / "env").exists()


# A jitted call in a fresh process; prints how many programs JAX loaded from the persistent cache.
API_RUN = """
import sys, jax, jax.numpy as jnp
import jaxrg
hits = []
HIT = "/jax/compilation_cache/cache_hits"
jax.monitoring.register_event_listener(lambda event, **kw: event == HIT and hits.append(event))
jax.config.update("jax_enable_x64", True)
folder = jaxrg.enable_compile_cache(*sys.argv[1:])
ev = jax.jit(jaxrg.laplacian_spectrum)(jnp.ones((5, 5)) - jnp.eye(5))
S = jax.jit(jaxrg.entropy_curves)(ev, jnp.logspace(-1, 1, 7)).entropy
print(folder, len(hits), S.round(12).tolist())
"""


def _python(args, tmp_path, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in (_cache.ENV_DIR, _cache.ENV_OFF, "XDG_CACHE_HOME")}
    done = subprocess.run([sys.executable, "-c", API_RUN, *args], capture_output=True, text=True,
                          env=dict(base, JAX_PLATFORMS="cpu", **env), timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    folder, hits, values = done.stdout.split(" ", 2)
    return folder, int(hits), values


def test_enable_compile_cache_lets_a_second_process_load_programs_instead_of_compiling(tmp_path):
    assert "enable_compile_cache" in jaxrg.__all__
    folder = tmp_path / "cache"
    first = _python([str(folder)], tmp_path)
    assert first[:2] == (str(folder), 0) and any(folder.iterdir())
    second = _python([str(folder)], tmp_path)
    assert second[1] >= 1 and second[2] == first[2]  # programs read back, same numbers


def test_enable_compile_cache_defaults_to_the_cli_folder_and_obeys_the_off_switch(tmp_path):
    on = _python([], tmp_path, JAXRG_CACHE_DIR=str(tmp_path / "env"))
    assert on[0] == str(tmp_path / "env") and any((tmp_path / "env").iterdir())
    off = _python([str(tmp_path / "off")], tmp_path, JAXRG_NO_COMPILE_CACHE="1")
    assert off[:2] == ("None", 0) and not (tmp_path / "off").exists()
    assert off[2] == on[2]
