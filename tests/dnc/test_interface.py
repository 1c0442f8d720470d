"""Interface vector ξ: size formula, split order and squashing."""

from __future__ import annotations

import pytest
import torch

from kgdnc.dnc import DNCConfig, split_interface
from kgdnc.dnc.interface import interface_sizes
from kgdnc.errors import UserError


@pytest.mark.parametrize("masking", [False, True])
@pytest.mark.parametrize("sharpness", [False, True])
def test_interface_size_formula(masking: bool, sharpness: bool) -> None:
    w, r = 5, 3
    cfg = DNCConfig(
        input_size=2, output_size=2, word_size=w, read_heads=r,
        key_masking=masking, link_sharpness=sharpness,
    )  # fmt: skip
    expected = w * r + 3 * w + 5 * r + 3
    expected += (r + 1) * w if masking else 0
    expected += 2 * r if sharpness else 0
    assert cfg.interface_size == expected
    assert sum(interface_sizes(cfg)) == expected


def test_split_shapes_ranges_and_order() -> None:
    w, r, b = 4, 2, 3
    cfg = DNCConfig(
        input_size=2, output_size=2, word_size=w, read_heads=r, key_masking=True,
        link_sharpness=True,
    )  # fmt: skip
    xi = torch.randn(b, cfg.interface_size, generator=torch.Generator().manual_seed(0)) * 5
    it = split_interface(xi, cfg)
    assert it.read_keys.shape == (b, r, w)
    assert it.read_strengths.shape == (b, r) and torch.all(it.read_strengths >= 1)
    assert it.write_key.shape == (b, 1, w)
    assert it.write_strength.shape == (b, 1) and torch.all(it.write_strength >= 1)
    for gate in (it.erase, it.free_gates, it.allocation_gate, it.write_gate):
        assert torch.all((gate > 0) & (gate < 1))
    assert it.erase.shape == (b, w) and it.write_vector.shape == (b, w)
    assert it.free_gates.shape == (b, r)
    assert it.allocation_gate.shape == (b, 1) and it.write_gate.shape == (b, 1)
    assert it.read_modes.shape == (b, r, 3)
    torch.testing.assert_close(it.read_modes.sum(-1), torch.ones(b, r))
    assert it.read_masks is not None and it.read_masks.shape == (b, r, w)
    assert it.write_mask is not None and it.write_mask.shape == (b, 1, w)
    assert it.forward_sharpness is not None and torch.all(it.forward_sharpness >= 1)
    assert it.backward_sharpness is not None and it.backward_sharpness.shape == (b, r)
    # order of the table: read keys first, write vector unsquashed after erase
    torch.testing.assert_close(it.read_keys.reshape(b, -1), xi[:, : r * w])
    start = r * w + r + w + 1 + w
    torch.testing.assert_close(it.write_vector, xi[:, start : start + w])
    torch.testing.assert_close(it.erase, torch.sigmoid(xi[:, start - w : start]))
    torch.testing.assert_close(it.free_gates, torch.sigmoid(xi[:, start + w : start + w + r]))
    torch.testing.assert_close(
        it.read_strengths, 1 + torch.log1p(torch.exp(xi[:, r * w : r * w + r]))
    )


def test_no_option_fields_when_options_are_off() -> None:
    cfg = DNCConfig(input_size=2, output_size=2, word_size=3, read_heads=2)
    it = split_interface(torch.zeros(1, cfg.interface_size), cfg)
    assert it.read_masks is None and it.write_mask is None
    assert it.forward_sharpness is None and it.backward_sharpness is None


@pytest.mark.parametrize(
    "field, value",
    [("word_size", 0), ("read_heads", -1), ("controller", "gru"), ("link_sparsity", 0),
     ("epsilon", 0.0), ("controller_clip", -1.0), ("hidden_size", 2.5)],
)  # fmt: skip
def test_bad_config_is_a_user_error(field: str, value: object) -> None:
    with pytest.raises(UserError, match=field):
        DNCConfig(input_size=2, output_size=2, **{field: value})  # type: ignore[arg-type]


def test_config_round_trips_through_a_dict() -> None:
    cfg = DNCConfig(input_size=2, output_size=3, link_sparsity=8, key_masking=True)
    assert DNCConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(UserError, match="unknown"):
        DNCConfig.from_dict({**cfg.to_dict(), "bogus": 1})
