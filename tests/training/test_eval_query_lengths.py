import pytest

from kgdnc.training.evaluate import evaluate


def test_inference_eval_counts_each_query_by_its_own_relation_length():
    """An inference episode asks three queries of lengths drawn apart; the report
    tallies each by its own length, and the tallies add up to the query accuracy."""
    report = evaluate("kgdnc/models/inference.ckpt", lesson=7, episodes=12, batch_size=12)
    rows = report.by_query_length
    assert set(rows) == {2, 3}  # lesson 7: relations of 2 and 3 steps
    assert sum(r["queries"] for r in rows.values()) == 3 * 12
    right = sum(r["accuracy"] * r["queries"] for r in rows.values())
    assert right / (3 * 12) == pytest.approx(report.step_accuracy)
    # the episodes' own rows are by their longest query
    assert max(report.by_length) == 3
    assert "queries by their own length: length 2:" in str(report.table().caption)
    assert set(report.to_dict()["by_query_length"]) == {"2", "3"}


def test_single_answer_tasks_have_no_per_query_rows():
    report = evaluate("kgdnc/models/traversal.ckpt", lesson=1, episodes=4, batch_size=4)
    assert report.by_query_length == {}
    assert report.table().caption is None


def test_node_decoding_never_loses_an_answer_the_digit_modes_had():
    """Digit modes that spell the right answer are each digit's most probable, so
    the right (described) node has the highest product too: decoding among nodes
    keeps every right answer and may add some."""
    digits = evaluate("kgdnc/models/inference.ckpt", lesson=7, episodes=12, batch_size=12)
    nodes = evaluate("kgdnc/models/inference.ckpt", lesson=7, episodes=12, batch_size=12,
                     decode="nodes")
    assert nodes.decode == "nodes" and nodes.to_dict()["decode"] == "nodes"
    assert digits.decode == "digits"
    assert nodes.step_accuracy >= digits.step_accuracy
    for n, row in digits.by_query_length.items():
        assert nodes.by_query_length[n]["accuracy"] >= row["accuracy"]
    assert "decoded among the described nodes" in str(nodes.table().caption)


def test_node_decoding_keeps_traversal_answers_and_their_termination():
    """Traversal answers end with the termination triple, which is no node's: it
    stays a candidate, so the digit modes' right walks stay right."""
    digits = evaluate("kgdnc/models/traversal.ckpt", lesson=14, episodes=8, batch_size=8)
    nodes = evaluate("kgdnc/models/traversal.ckpt", lesson=14, episodes=8, batch_size=8,
                     decode="nodes")
    assert digits.accuracy > 0  # the bundled model finished the curriculum
    assert nodes.accuracy >= digits.accuracy
    assert nodes.step_accuracy >= digits.step_accuracy
