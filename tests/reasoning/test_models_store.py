"""Models by name: workspace store, bundled lookup, paths."""

import pytest

from kgdnc.errors import UserError
from kgdnc.reasoning import models
from kgdnc.training.checkpoint import read_checkpoint


def test_save_resolve_list_remove(tiny_models, workspace):
    data = read_checkpoint(tiny_models["traversal"])
    entry = models.save_model(data, "mine", {"task": "traversal", "graph": "g"})
    assert entry.path == workspace / "models" / "mine" / "model.ckpt"
    assert models.resolve_model("mine", "traversal") == entry
    assert [r["name"] for r in models.list_models() if r["kind"] == "workspace"] == ["mine"]
    info = models.model_info(entry)
    assert info["task"] == "traversal" and info["card"]["graph"] == "g"
    with pytest.raises(UserError, match="already exists"):
        models.save_model(data, "mine", {})
    models.save_model(data, "mine", {"task": "traversal", "graph": "h"}, force=True)
    assert models.resolve_model("mine", "traversal").card["graph"] == "h"
    assert not [p for p in (workspace / "models").iterdir() if p.name.startswith(".mine")]
    models.remove_model("mine")
    with pytest.raises(UserError, match="no model named 'mine'"):
        models.resolve_model("mine", "traversal")


def test_paths_and_bad_names(tiny_models, tmp_path):
    entry = models.resolve_model(str(tiny_models["inference"]), "inference")
    assert entry.kind == "file" and entry.label() == str(tiny_models["inference"])
    with pytest.raises(UserError, match="does not exist"):
        models.resolve_model(str(tmp_path / "nope.ckpt"), "inference")
    with pytest.raises(UserError, match="invalid model name"):
        models.validate_model_name("../x")


def test_bundled_model_is_the_default(monkeypatch, tiny_models):
    monkeypatch.setattr(models, "bundled_path", lambda task: tiny_models[task])
    entry = models.resolve_model(None, "shortest-path")
    assert entry.kind == "bundled" and entry.label() == "bundled:shortest-path"
    assert models.resolve_model("shortest_path", "x").path == tiny_models["shortest-path"]
