"""Identity-labelled image sets, a tiny real training run, and the `vidml train/eval embed` commands."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from conftest import DATA, needs_data
from vidml.backbones.embed import EmbeddingNet
from vidml.cli import main
from vidml.datasets import identity_from_filename, load_identity_images, split_by_identity
from vidml.errors import BadInput
from vidml.train import set_seed
from vidml.eval_embed import EvalEmbedConfig, eval_embed
from vidml.invocation import command_line
from vidml.train_embed import TrainEmbedConfig, evaluate, train_embed, train_embedding

ORL = DATA / "faces" / "att_orl"
YALE = DATA / "faces" / "yale"


@pytest.mark.parametrize("name, identity", [("subject01.glasses", "subject01"), ("subject12.gif", "subject12"),
                                            ("subject01.sad.gif", "subject01"), ("alice_003.jpg", "alice"),
                                            ("bob-smith-2.png", "bob-smith"), ("carol.png", "carol")])
def test_identity_from_filename(name, identity):
    assert identity_from_filename(name) == identity


@needs_data
def test_reads_folder_per_identity_and_flat_prefix_layouts():
    orl = load_identity_images(ORL, size=32)
    assert orl.images.shape == (400, 32, 32, 3) and orl.images.dtype == np.uint8
    assert orl.num_classes == 40 and orl.names[:3] == ["s1", "s2", "s3"] and orl.names[9] == "s10"
    assert np.array_equal(orl.images[..., 0], orl.images[..., 2])  # grey PGM -> 3 equal channels
    assert np.bincount(orl.labels).tolist() == [10] * 40
    yale = load_identity_images(YALE, size=32)  # GIFs without extension, identity = filename prefix
    assert yale.num_classes == 15 and len(yale) == 164 and yale.names[0] == "subject01"
    both = load_identity_images([ORL, YALE], size=32)
    assert both.num_classes == 55 and both.names[40] == "yale/subject01"
    train, test = split_by_identity(orl)
    assert train.num_classes == test.num_classes == 20 and len(train) == len(test) == 200
    assert set(train.names).isdisjoint(test.names) and test.names[0] == "s21"
    assert train.labels.max() == 19 and test.labels.min() == 0


def test_bad_folders_are_user_errors(tmp_path):
    with pytest.raises(BadInput, match="not a folder"):
        load_identity_images(tmp_path / "nope")
    with pytest.raises(BadInput, match="no images"):
        load_identity_images(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1.png").write_bytes(b"not an image at all")
    with pytest.raises(BadInput, match="1.png: not a readable image"):
        load_identity_images(tmp_path)


@needs_data
def test_tiny_training_learns_on_real_faces():
    torch.set_num_threads(1)
    data = load_identity_images(ORL, size=32)
    few = data.subset(data.labels < 6)  # six real identities, 60 images
    set_seed(0)
    untrained = evaluate(EmbeddingNet(trunk="small16"), few)
    net, losses = train_embedding(few, loss="triplet", miner="semihard", steps=20, batch_size=24, trunk="small16")
    trained = evaluate(net, few)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    assert trained["MAP@R"] > untrained["MAP@R"] + 0.1
    assert trained["P@1"] >= untrained["P@1"]


@needs_data
def test_train_embed_function_without_main(tmp_path):
    """train_embed(cfg) does the whole command: data, training, held-out metrics, checkpoint + card; eval_embed
    of that checkpoint on the same held-out split gives the same metrics."""
    torch.set_num_threads(1)
    root = tmp_path / "faces"
    for i in range(1, 5):
        shutil.copytree(ORL / f"s{i}", root / f"s{i}")
    cfg = TrainEmbedConfig((str(root),), steps=4, batch_size=8, size=32, trunk="small16", out=str(tmp_path / "w.pt"))
    res = train_embed(cfg)
    assert res.out.is_file() and res.out.with_suffix(".md").is_file() and res.steps == 4 and len(res.losses) == 4
    assert res.card["command"].startswith("(called from Python) TrainEmbedConfig(")  # no command line to record
    again = eval_embed(EvalEmbedConfig((str(root),), weights=str(res.out)))
    assert (again.identities, again.images) == (2, 20)
    assert again.metrics == pytest.approx(res.metrics, nan_ok=True)


def test_command_line_is_the_argv_main_was_given():
    assert command_line(["train", "embed", "a b", "--steps", "3"]) == "vidml train embed 'a b' --steps 3"
    assert command_line() == ""  # not inside main


@needs_data
@pytest.mark.parametrize("extra", [["--sft"], ["--daml"]])
def test_train_and_eval_commands_end_to_end(tmp_path, capsys, extra):
    root = tmp_path / "faces"
    for i in range(1, 5):
        shutil.copytree(ORL / f"s{i}", root / f"s{i}")
    out = tmp_path / "w.pt"
    code = main(["train", "embed", str(root), "--steps", "3", "--batch-size", "8", "--size", "32", "--trunk",
                 "small16", "--out", str(out), "--quiet", "--threads", "1", *extra])
    assert code == 0 and out.is_file()
    card = out.with_suffix(".md").read_text()
    assert f"vidml train embed {root} --steps 3 --batch-size 8" in card and "MAP@R" in card
    assert "4 identities" in card and extra[0] in card
    capsys.readouterr()
    assert main(["eval", "embed", str(root), "--weights", str(out), "--json"]) == 0
    metrics = eval(capsys.readouterr().out.strip().replace("NaN", "float('nan')"))
    assert set(metrics) >= {"P@1", "R@1", "R@2", "R@4", "R@8", "MAP@R", "NMI"}
    assert 0.0 <= metrics["MAP@R"] <= metrics["R@8"] <= 1.0


def test_commands_exit_2_on_user_errors(tmp_path, capsys):
    assert main(["train", "embed", str(tmp_path / "missing"), "--steps", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "missing: not a folder" in err and len(err.splitlines()) == 1
    assert main(["eval", "embed", str(tmp_path), "--weights", str(tmp_path / "none.pt")]) == 2
    assert "model weights not found" in capsys.readouterr().err
    assert main(["train", "embed", str(tmp_path), "--loss", "nope", "--quiet"]) == 2  # empty folder
