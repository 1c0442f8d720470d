import os

import pytest
import torch

from kgdnc.errors import UserError
from kgdnc.training.checkpoint import (
    atomic_save,
    checkpoint_meta,
    export_checkpoint,
    read_checkpoint,
)
from kgdnc.training.trained import load_trained


class _Hostile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_garbage_and_truncated_files_are_user_errors(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_text("not a checkpoint")
    with pytest.raises(UserError, match="not a torch checkpoint"):
        read_checkpoint(bad)
    good = tmp_path / "good.ckpt"
    atomic_save({"x": torch.ones(1000)}, good)
    half = tmp_path / "half.ckpt"
    half.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(UserError):
        read_checkpoint(half)
    with pytest.raises(UserError, match="does not exist"):
        read_checkpoint(tmp_path / "missing.ckpt")


def test_pickled_code_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "x": _Hostile(str(marker))}, evil)
    with pytest.raises(UserError, match="refused"):
        read_checkpoint(evil)
    assert not marker.exists()


def test_foreign_checkpoint_is_a_user_error(tmp_path):
    foreign = tmp_path / "foreign.ckpt"
    atomic_save({"state_dict": {"w": torch.zeros(2)}}, foreign)
    with pytest.raises(UserError, match="not a kgdnc checkpoint"):
        checkpoint_meta(read_checkpoint(foreign), foreign)
    with pytest.raises(UserError, match="not a kgdnc checkpoint"):
        load_trained(foreign)


def test_atomic_save_leaves_no_temporary_files(tmp_path):
    path = atomic_save({"a": 1}, tmp_path / "sub" / "x.ckpt")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["x.ckpt"]
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's private 0600


def test_checkpoint_rebuilds_model_and_exports_slim(tiny_run, tmp_path):
    result = tiny_run("traversal", max_steps=2)
    last = result.last_checkpoint
    data = read_checkpoint(last)
    meta = checkpoint_meta(data, last)
    assert meta["task"] == "traversal"
    assert meta["model_config"]["input_size"] == 92
    assert meta["codec"]["output_size"] == 90
    assert meta["curriculum"]["position"] == 0
    # configs are plain data: nothing but builtins and tensors in the file
    assert isinstance(meta["train_config"], dict) and isinstance(meta["model_config"], dict)

    slim = export_checkpoint(last, tmp_path / "slim.ckpt")
    assert slim.stat().st_size < last.stat().st_size
    a, b = load_trained(last).network, load_trained(slim).network
    x = torch.zeros(1, 3, 92)
    x[0, :, 5] = 1.0
    assert torch.equal(a(x)[0], b(x)[0])
    assert "optimizer_states" not in read_checkpoint(slim)


@pytest.mark.parametrize("model", ["dnc", "lstm"])
def test_loaded_network_holds_the_checkpoint_weights_on_the_cpu_and_trainable(tmp_path, model):
    # built on the meta device, the network takes the checkpoint's tensors as they are
    from kgdnc.reasoning.finetune import write_initial_checkpoint

    path = write_initial_checkpoint(tmp_path / "m.ckpt", "traversal", model=model,
                                    hidden_size=16, memory_size=16, word_size=8, read_heads=2)
    saved = read_checkpoint(path)["state_dict"]
    network = load_trained(path).network
    for name, param in network.named_parameters():
        assert param.device.type == "cpu" and param.requires_grad  # fine-tuning trains them
        assert torch.equal(param, saved[f"network.{name}"])
    y, _ = network(torch.zeros(1, 3, 92))
    y.sum().backward()
    assert all(p.grad is not None for p in network.parameters())


def test_weights_that_do_not_fit_the_configuration_are_a_user_error(tmp_path):
    from kgdnc.reasoning.finetune import write_initial_checkpoint

    path = write_initial_checkpoint(tmp_path / "m.ckpt", "traversal", hidden_size=16,
                                    memory_size=16, word_size=8, read_heads=2)
    data = read_checkpoint(path)
    data["state_dict"]["network.bias"] = torch.zeros(3)
    atomic_save(data, path)
    with pytest.raises(UserError, match="weights do not match"):
        load_trained(path)
