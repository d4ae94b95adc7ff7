"""Assertions shared by the tests of every lesson's exercises (imported by the test modules;
not a test module itself)."""

from __future__ import annotations

from autoenc_helpers.exercises import CheckResult


def assert_fails(ex, answer, *fragments: str) -> CheckResult:
    """The check rejects ``answer`` without raising, and its message says why."""
    result = ex.evaluate(answer)
    assert not result.passed and result.answered, result
    assert result.message and "Traceback" not in result.message
    for fragment in fragments:
        assert fragment in result.message, result.message
    return result


def assert_solutions_pass(exercises) -> None:
    """Every stored solution passes its own check, and a ``None`` answer counts as
    unanswered, not as wrong."""
    for ex in exercises:
        result = ex.evaluate(ex.solve())
        assert result.passed, (ex.name, result.message)
        assert not ex.evaluate(None).answered
