"""``claim``: prints the verdict, records it for the course runner, refuses unclear input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autoenc_helpers.report import CLAIMS_ENV, claim


def test_claim_prints_and_records(tmp_path, monkeypatch, capsys):
    target = tmp_path / "claims.json"
    monkeypatch.setenv(CLAIMS_ENV, str(target))
    assert claim("the error falls", np.float64(0.1) < 0.3, "0.3 -> 0.1") is True
    assert claim("the error rises", np.bool_(False)) is False
    out = capsys.readouterr().out
    assert "claim holds: the error falls (0.3 -> 0.1)" in out
    assert "CLAIM DOES NOT HOLD in this run: the error rises" in out
    assert claim("the error rises", True) is True  # re-running a cell replaces the entry
    assert json.loads(target.read_text()) == [
        {"claim": "the error falls", "holds": True, "evidence": "0.3 -> 0.1"},
        {"claim": "the error rises", "holds": True, "evidence": ""}]


def test_claim_outside_the_runner_only_prints(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(CLAIMS_ENV, raising=False)
    assert claim("one is one", 1 == 1)
    assert "claim holds" in capsys.readouterr().out


@pytest.mark.parametrize("holds", [np.array([True, False]), 1, "yes", None])
def test_claim_refuses_what_is_not_one_boolean(holds):
    with pytest.raises(ValueError, match="one boolean"):
        claim("the error falls", holds)


def test_claim_needs_a_statement():
    with pytest.raises(ValueError, match="non-empty"):
        claim("  ", True)
