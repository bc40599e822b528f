"""The --expect grammar: what it accepts, how it judges, and that nothing in it is evaluated as Python."""

from __future__ import annotations

import pytest

from nbrun.values.expectations import ExpectationSyntaxError, parse_expectation
from nbrun.values.scraps import recorded_values
from tests.support.notebooks import make_notebook

VALUES = {"accuracy": 0.91, "region": "north", "n": 3, "ok": True, "empty": None}


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("accuracy >= 0.88", True),
        ("accuracy > 0.95", False),
        ("0.8 < accuracy", True),
        ("n == 3.0", True),
        ("n != 3", False),
        ("region == 'north'", True),
        ('region in ["north", "south"]', True),
        ("region not in ['north']", False),
        ("n in [1, 2, 3]", True),
        ("ok == true and empty == null", True),
        ("ok == 1", False),  # a boolean is not a number, as in JSON
        ("n == 3 and (accuracy < 0.5 or ok == true)", True),
        ("n > 5 or n < 2", False),
        ("accuracy >= 1e-1", True),
    ],
)
def test_the_grammar_judges(text: str, passed: bool) -> None:
    assert parse_expectation(text).check(VALUES).passed is passed


def test_a_failure_names_the_expectation_and_the_value_seen() -> None:
    verdict = parse_expectation("accuracy > 0.95").check(VALUES)
    assert verdict.message == "expectation 'accuracy > 0.95' failed: accuracy is 0.91"
    missing = parse_expectation("loss < 1").check(VALUES)
    assert missing.message.startswith("expectation 'loss < 1' names loss, which the notebook never recorded")
    unordered = parse_expectation("region < 3").check(VALUES)
    assert not unordered.passed and "do not order" in unordered.message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "accuracy",
        "accuracy >=",
        "accuracy >>= 1",
        "__import__('os').system('true')",
        "open('x') == 1",
        "a in [b]",
        "a > 1 extra",
        "(a > 1",
        "a.b > 1",
        "a ~ 1",
        "not a > 1",
    ],
)
def test_anything_outside_the_grammar_is_refused(text: str) -> None:
    with pytest.raises(ExpectationSyntaxError, match="expectation"):
        parse_expectation(text)


def test_scraps_and_papermill_records_are_read_the_last_value_winning() -> None:
    nb = make_notebook("pass", "pass")
    scrap = {"name": "a", "data": 1, "encoder": "json", "version": 1}
    nb.cells[0].outputs = [
        {"output_type": "display_data", "metadata": {}, "data": {"application/scrapbook.scrap.json+json": scrap}},
        {
            "output_type": "display_data",
            "metadata": {"papermill": {"name": "old"}},
            "data": {"application/papermill.record/text/plain": "legacy"},
        },
    ]
    nb.cells[1].outputs = [
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"application/scrapbook.scrap.json+json": {**scrap, "data": 2}},
        },
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"application/scrapbook.scrap.arrow+json": {**scrap, "name": "df"}},
        },
    ]
    values = recorded_values(nb)
    assert values.as_dict() == {"a": 2, "old": "legacy"}
    assert values.to_json()["a"] == {"value": 2, "cell": 1}
