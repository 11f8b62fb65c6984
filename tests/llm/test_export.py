"""The LLM as ONNX with its cache: prefill and one cached step against torch."""

import pytest

pytest.importorskip("transformers")

# logits are O(10); the float32 graph and torch differ by float rounding only
LOGITS_ATOL = 1e-3


@pytest.mark.model
@pytest.mark.slow
def test_smollm2_graph_matches_torch_in_prefill_and_a_cached_step(tmp_path, store):
    from perception.export.checks import check_graph
    from perception.export.graphs import llm_graphs
    from perception.export.manifest import Shapes

    (graph,) = llm_graphs(tmp_path, store)
    assert graph.feeds["past_k"].shape[3] == 0  # the prefill starts from an empty cache
    assert graph.parity(graph.path) < LOGITS_ATOL
    shapes = {"input_ids": Shapes((1, 1), (1, 1), (1, 512))}
    report = check_graph(graph.path, shapes)
    assert report.checker == "ok" and report.unsupported["10.15"] == ()
