"""Scale-out on ``jax.distributed``: two local CPU processes equal one process.

Two subprocesses join a loopback coordinator (``127.0.0.1:<free port>``). Batch curves: each
process supplies its half of a chunk, the global array is assembled with
``jax.make_array_from_process_local_data`` and :func:`jaxrg.batch.batch_curves` runs it on the
two-process mesh; each process returns its addressable rows. SLQ: each process runs half of the
probes (``probes=``) and :func:`jaxrg.sparse.merge_quadratures` joins them. The oracle is this
(single) process running the same work whole. Subprocess timeouts keep a failed coordinator
from hanging the suite.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
from tolerances import tol

import jaxrg.batch as jb
import jaxrg.sparse as sp

TAUS = [0.01, 0.1, 1.0, 10.0]
NUM_GRAPHS = 8

WORKER = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    port, pid, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid,
        initialization_timeout=60,
    )
    import jax.numpy as jnp, networkx as nx, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P
    import jaxrg, jaxrg.batch as jb, jaxrg.sparse as sp
    assert jax.process_count() == 2 and len(jax.devices()) == 2, jax.devices()
    graphs = [nx.gnp_random_graph(4 + i, 0.5, seed=i) for i in range(8)]
    chunk = next(jb.padded_chunks(graphs, chunk_size=8, num_nodes=12))
    mesh = jb.batch_mesh()
    sharding = NamedSharding(mesh, P("batch"))
    mine = slice(4 * pid, 4 * pid + 4)  # this process's rows (its device's share)
    batch = jaxrg.PaddedBatch(*(
        jax.make_array_from_process_local_data(sharding, np.asarray(x)[mine])
        for x in chunk.batch
    ))
    curves = jb.batch_curves(batch, jnp.asarray(TAUS), mesh=mesh)
    rows = {}
    for shard in curves.specific_heat.addressable_shards:
        start = shard.index[0].start or 0
        for r, values in enumerate(np.asarray(shard.data)):
            rows[start + r] = values.tolist()
    ring = nx.cycle_graph(30)
    quad = sp.lanczos_quadrature(
        ring, key=jax.random.key(7), num_probes=4, num_matvecs=10, num_deflate=0,
        probes=(2 * pid, 2 * pid + 2),
    )
    with open(out, "w") as handle:
        json.dump({"rows": rows, "quad": {f: np.asarray(getattr(quad, f)).tolist()
                   for f in ("nodes", "log_weights", "residuals")}}, handle)
    jax.distributed.shutdown()
    """
).replace("TAUS", repr(TAUS))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_give_the_curves_and_quadrature_of_one(tmp_path):
    port = free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(port), str(i), str(tmp_path / f"out{i}.json")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    errors = []
    try:
        for p in procs:
            _, err = p.communicate(timeout=600)  # mostly compilation; minutes when loaded
            if p.returncode != 0:
                errors.append(err[-2000:])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert not errors, errors
    outs = [json.loads((tmp_path / f"out{i}.json").read_text()) for i in range(2)]

    # batch curves: the two processes' rows are the one-process batch
    rows = {int(r): v for out in outs for r, v in out["rows"].items()}
    assert sorted(rows) == list(range(NUM_GRAPHS))
    graphs = [nx.gnp_random_graph(4 + i, 0.5, seed=i) for i in range(NUM_GRAPHS)]
    chunk = next(jb.padded_chunks(graphs, chunk_size=NUM_GRAPHS, num_nodes=12))
    single = jb.batch_curves(chunk.batch, jnp.asarray(TAUS)).specific_heat
    np.testing.assert_allclose([rows[r] for r in range(NUM_GRAPHS)], single, **tol("float64"))

    # SLQ: two probe shares merged equal all probes in one process
    shares = [
        sp.SpectralQuadrature(
            **{f: jnp.asarray(v) for f, v in out["quad"].items()},
            deflated_nodes=None,
            deflated_log_weights=None,
            num_components=None,
            num_nodes=None,
        )
        for out in outs
    ]
    whole = sp.lanczos_quadrature(
        nx.cycle_graph(30), key=jax.random.key(7), num_probes=4, num_matvecs=10, num_deflate=0
    )
    merged = sp.merge_quadratures(
        [
            whole._replace(**{f: getattr(s, f) for f in ("nodes", "log_weights", "residuals")})
            for s in shares
        ]
    )
    for field in ("nodes", "log_weights", "residuals"):
        np.testing.assert_allclose(getattr(merged, field), getattr(whole, field), **tol("float64"))
    curves = sp.curves_from_quadrature(merged, jnp.asarray(TAUS))
    np.testing.assert_allclose(
        curves.entropy,
        sp.curves_from_quadrature(whole, jnp.asarray(TAUS)).entropy,
        **tol("float64"),
    )
