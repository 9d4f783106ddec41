"""``autotensor graph``: the seed example and saved models drawn to files, with clear failures."""
from __future__ import annotations

from autotensor.viz import rendering
from nn import cli
from nn.carprice import model_graph
from tests.viz.dot_text import PNG_SIGNATURE, Parsed, engine_counts


def run_graph(*argv: str) -> int:
    return cli.main(["graph", *argv])


def test_graph_command_writes_the_seed_example(tmp_path, capsys):
    out = tmp_path / "seed.dot"
    assert run_graph("--example", "seed", "--out", str(out), "--rankdir", "TB") == 0
    g = Parsed(out.read_text())
    assert (len(g.tensors), len(g.ops)) == (21, 12)
    assert g.find("<B>W1</B>") and g.find("<I>grad</I>") and "rankdir=TB" in out.read_text()
    assert "wrote" in capsys.readouterr().out
    assert run_graph("--example", "seed", "--out", str(out), "--no-values", "--no-grads") == 0
    assert "<I>data</I>" not in out.read_text() and "<I>grad</I>" not in out.read_text()


def test_graph_command_renders_png(tmp_path, dot_program):
    out = tmp_path / "seed.png"
    assert run_graph("--example", "seed", "--out", str(out)) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_graph_command_usage_and_failures_exit_2_and_1(tmp_path, capsys, monkeypatch):
    assert run_graph("--example", "seed", "--out", str(tmp_path / "seed.jpg")) == 2
    assert "--out" in capsys.readouterr().err
    assert run_graph("--example", "seed", "--out", str(tmp_path / "no-such-dir" / "seed.dot")) == 2
    assert "does not exist" in capsys.readouterr().err
    assert run_graph("--model", str(tmp_path / "absent.npz"), "--out", str(tmp_path / "g.dot")) == 1
    error = capsys.readouterr().err
    assert error.startswith("autotensor graph: error:") and error.count("\n") == 1
    monkeypatch.setattr(rendering.shutil, "which", lambda name: None)
    assert run_graph("--example", "seed", "--out", str(tmp_path / "seed.svg")) == 1
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert run_graph("--out", str(tmp_path / "g.dot")) == 2  # argparse: --example or --model is required


def test_graph_command_draws_a_saved_model(tmp_path):
    import nn
    from nn.carprice import Normalizer, synthetic

    model = nn.MLP([3, 5, 1], "tanh", seed=1)
    normalizer = Normalizer().fit(synthetic.generate(200, seed=3))
    path = nn.save(model, tmp_path / "model.npz", metadata={"normalizer": normalizer.to_dict()})
    out = tmp_path / "model.dot"
    assert run_graph("--model", str(path), "--out", str(out), "--batch", "3") == 0
    g = Parsed(out.read_text())
    loss, names, _ = model_graph(str(path), batch=3)
    assert (len(g.tensors), len(g.ops), len(g.edges)) == engine_counts(loss)
    assert g.find("<B>layers.0.W</B>") and g.find("<B>layers.2.b</B>") and g.find("(3, 3) float64")
    assert {"layers.0", "layers.1", "layers.2", "loss"} <= set(g.clusters.values())
    no_stats = nn.save(model, tmp_path / "bare.npz")
    assert run_graph("--model", str(no_stats), "--out", str(out)) == 1
