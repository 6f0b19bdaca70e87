"""Every graph command on malformed files: exit code 2, one line on stderr, no traceback.

Issue 17 item 7 / issue 19 item 5: one reader and one set of rules for ``curve``,
``curve-sparse``, ``coarse-grain`` and ``rewire``. The files are written here; the commands run
in-process through :func:`jaxrg.cli.main` (errors are raised while reading, before any compute).
"""

import gzip

import numpy as np
import pytest

from jaxrg.cli import main


def _truncated_gz(path):
    path.write_bytes(gzip.compress(b"0 1\n1 2\n2 0\n" * 100)[:30])


def _text(content):
    return lambda path: path.write_text(content, encoding="utf-8")


def _bytes(content):
    return lambda path: path.write_bytes(content)


def _npy(array):
    return lambda path: np.save(path, array)


MALFORMED = {
    "truncated_gz": ("g.txt.gz", _truncated_gz, "truncated or corrupt"),
    "not_gzip": ("g.txt.gz", _bytes(b"\x1f\x8bnot really gzip"), "truncated or corrupt"),
    "header": ("g.csv", _text("source,target\n0,1\n"), "looks like a header; start it with '#'"),
    "float_ids": ("g.txt", _text("0.0 1.0\n1.0 2.0\n"),
                  "line 1: expected .*node id '0.0' is not an integer"),
    "huge_ids_kept": ("g.txt", _text("0 1\n1 3000000000\n"), "beyond 2.31 - 1|GiB"),
    "weights_1e308": ("g.txt", _text("0 1 1e308\n1 2 1\n"), "rescale the weights"),
    "nan_weight": ("g.txt", _text("0 1 nan\n"), "line 1: weight 'nan'"),
    "negative_weight": ("g.txt", _text("0 1 -1\n"), "line 1: weight '-1'"),
    "empty": ("g.txt", _text(""), "holds no edges"),
    "comments_only": ("g.txt", _text("# nothing\n% here\n"), "holds no edges"),
    "too_many_fields": ("g.txt", _text("0 1\n1 2 3 4\n"), "line 2: expected 'u v'"),
    "directed_duplicate": ("g.txt", _text("0 1 1\n1 0 2\n"), "directed graph"),
    "repeated_edge": ("g.txt", _text("0 1\n1 2\n0 1\n"), "listed 2 times"),
    "negative_id": ("g.txt", _text("0 1\n-1 2\n"),
                    "line 2: node id '-1' is negative; node ids are integers >= 0"),
    "not_utf8": ("g.txt", _bytes(b"0 1\n\xff\xfe 2\n"), "not UTF-8"),
    "unknown_suffix": ("g.xyz", _text("0 1\n"), "unknown graph file type"),
    "npy_asymmetric": ("g.npy", _npy(np.array([[0.0, 1.0], [0.0, 0.0]])), "not symmetric"),
    "npy_edge_array": ("g.npy", _npy(np.array([[0, 1], [1, 2], [2, 0]])), "looks like an edge"),
    "npy_garbage": ("g.npy", _bytes(b"not an npy file"), "g.npy"),
    "npz_garbage": ("g.npz", _bytes(b"PK not a zip"), "g.npz"),
    "graphml_directed": ("g.graphml", _text(
        '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<graph edgedefault="directed"><node id="a"/><node id="b"/>'
        '<edge source="a" target="b"/></graph></graphml>'), "declares a directed graph"),
    "gml_duplicate_edge": ("g.gml", _text(
        "graph [\n node [ id 0 ]\n node [ id 1 ]\n edge [ source 0 target 1 ]\n"
        " edge [ source 0 target 1 ]\n]\n"), "merge the repeated edges"),
}

COMMANDS = {
    "curve": lambda path, tmp: ["curve", str(path)],
    "curve-sparse": lambda path, tmp: ["curve-sparse", str(path), "--no-progress"],
    "coarse-grain": lambda path, tmp: ["coarse-grain", str(path), "--tau", "1", "--out",
                                       str(tmp / "lrg")],
    "rewire": lambda path, tmp: ["rewire", str(path), "--tau", "1", "--out", str(tmp / "r.txt")],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_file_gives_one_line_and_exit_code_2(kind, command, tmp_path, capsys):
    name, write, match = MALFORMED[kind]
    path = tmp_path / name
    write(path)
    argv = COMMANDS[command](path, tmp_path)
    if kind == "huge_ids_kept":
        argv.append("--keep-ids")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith(f"jaxrg {command}: error: "), err
    assert pytest.importorskip("re").search(match, err), err


@pytest.mark.parametrize("command", ["curve", "curve-sparse", "coarse-grain", "rewire"])
def test_ids_from_one_are_renumbered_with_a_note_and_a_mapping(command, tmp_path, capsys):
    path = tmp_path / "g.txt.gz"  # .gz works for every command
    path.write_bytes(gzip.compress("\ufeff# ids from 1\n1 2\n2 3\n3 1\n3 4\n".encode()))
    out = {"curve": ["--json", str(tmp_path / "c.json")],
           "curve-sparse": ["--json", str(tmp_path / "c.json"), "--no-progress", "--probes", "4",
                            "--matvecs", "4"],
           "coarse-grain": ["--tau", "1", "--out", str(tmp_path / "lrg")],
           "rewire": ["--tau", "1", "--out", str(tmp_path / "r.txt")]}[command]
    assert main([command, str(path), *out]) == 0
    text = capsys.readouterr().out
    assert "note: " in text and "node ids 1..4 (4 distinct), not 0..N-1; numbered 0..3" in text
    assert "4 nodes" in text
    mapping = {"curve": "c.nodes.tsv", "curve-sparse": "c.nodes.tsv",
               "coarse-grain": "lrg/nodes.tsv", "rewire": "r.nodes.tsv"}[command]
    lines = (tmp_path / mapping).read_text().splitlines()
    assert lines[1:] == ["0\t1", "1\t2", "2\t3", "3\t4"]
