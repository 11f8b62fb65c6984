import pytest

from perception.eval.groups import by_group, format_report
from perception.eval.wer import corpus_wer, count_errors, edit_distance, normalize


def test_normalize_is_language_neutral():
    assert normalize("Robot, STOP!  Now.") == "robot stop now"
    assert normalize("Straße – «Привет», мир!") == "strasse привет мир"


@pytest.mark.parametrize(
    ("ref", "hyp", "edits"),
    [
        ("a b c", "a b c", 0),
        ("a b c", "a x c", 1),
        ("a b c", "a c", 1),
        ("a b", "a b c d", 2),
        ("", "a", 1),
        ("a b c", "", 3),
    ],
)
def test_edit_distance(ref, hyp, edits):
    assert edit_distance(ref.split(), hyp.split()) == edits


def test_corpus_wer_weights_by_reference_length():
    pairs = [("stop", "top"), ("go to the kitchen now please", "go to the kitchen now please")]
    assert corpus_wer(pairs) == pytest.approx(1 / 7)
    assert count_errors("停止", "停上", unit="char").edits == 1


def test_by_group_names_the_worst_group():
    items = [("a", 0.1), ("a", 0.3), ("b", 0.9)]
    report = by_group(
        items,
        lambda x: x[0],
        lambda xs: sum(v for _, v in xs) / len(xs),
        "err",
        higher_is_better=False,
    )
    assert report.worst_group == "b" and report.counts == {"a": 2, "b": 1}
    assert report.per_group["a"] == pytest.approx(0.2)
    assert "<- worst" in format_report(report).splitlines()[2]
