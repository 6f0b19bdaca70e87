"""The suite's own comparison helper fails where it must (tests/tolerances.py)."""

import math

import pytest
from tolerances import assert_records_close


def test_records_close_accepts_rounding_and_rejects_real_differences():
    want = {"a": [1.0, 0.0, math.nan, math.inf], "b": "x", "n": 3}
    assert_records_close({"a": [1.0 + 1e-12, 3e-18, math.nan, math.inf], "b": "x", "n": 3}, want)
    for got, where in (({"a": [1.001, 0.0, math.nan, math.inf], "b": "x", "n": 3}, "/a[0]"),
                       ({"a": [1.0, 1e-9, math.nan, math.inf], "b": "x", "n": 3}, "/a[1]"),
                       ({"a": [1.0, 0.0, 1.0, math.inf], "b": "x", "n": 3}, "/a[2]"),
                       ({"a": [1.0, 0.0, math.nan], "b": "x", "n": 3}, "/a"),
                       ({"a": [1.0, 0.0, math.nan, math.inf], "b": "y", "n": 3}, "/b"),
                       ({"a": [1.0, 0.0, math.nan, math.inf], "b": "x", "n": 3.0}, "/n"),
                       ({"a": [1.0, 0.0, math.nan, math.inf], "b": "x"}, "keys")):
        with pytest.raises(AssertionError, match=where.replace("[", r"\[").replace("]", r"\]")):
            assert_records_close(got, want)
