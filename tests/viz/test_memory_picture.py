"""Memory pictures: a real PNG for each query kind; read hits measure overlap."""

import pytest
import torch

from kgdnc.graphs import KnowledgeGraph
from kgdnc.reasoning import ask
from kgdnc.reasoning.finetune import write_initial_checkpoint
from kgdnc.viz import memory_picture, picture_data, read_hits

PNG = b"\x89PNG\r\n\x1a\n"
TINY = dict(hidden_size=16, memory_size=16, word_size=8, read_heads=2)


def ring() -> KnowledgeGraph:
    kg = KnowledgeGraph("ring")
    for i in range(8):
        kg.add_triple(f"n{i}", "next", f"n{(i + 1) % 8}")
        kg.add_triple(f"n{(i + 1) % 8}", "prev", f"n{i}")
    return kg


def test_read_hits_find_the_slot_written_at_a_step():
    write = torch.zeros(5, 4)
    write[0, 2] = 1.0  # step 0 wrote slot 2
    write[1, 0] = 1.0  # step 1 wrote slot 0
    read = torch.zeros(5, 2, 4)
    read[4, 0, 2] = 1.0  # step 4, head 0 reads slot 2
    hits = read_hits(read, write, [4], described=2)
    assert hits.tolist() == [[1.0, 0.0]]


@pytest.mark.parametrize("kind", ["shortest-path", "traversal", "inference"])
def test_picture_is_a_png(kind, tmp_path):
    model = write_initial_checkpoint(tmp_path / f"{kind}.ckpt", kind, **TINY)
    query = {"shortest-path": dict(to="n3"), "traversal": dict(via="next,next"),
             "inference": dict(relation="next/next/prev")}[kind]
    answer = ask("n0", graph=ring(), model=str(model), trace=True, **query)
    pic = picture_data(answer)
    assert [p.name for p in pic.phases][0] == "description"
    assert pic.phases[-1].end == pic.write.shape[0]
    assert len(pic.description) == 16 and pic.hits.shape[1] == 16
    out = memory_picture(answer, tmp_path / "pics" / "memory.png")
    data = out.read_bytes()
    assert data[:8] == PNG and len(data) > 20_000
    assert [p.name for p in out.parent.iterdir()] == ["memory.png"]  # no temp file left
