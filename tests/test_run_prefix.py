"""The per-run name prefix of machine-wide test resources (:mod:`one_core.testing.prefix`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from one_core.testing import prefix


def test_prefix_is_short_valid_and_stable_within_a_process():
    made = prefix.make_prefix({})
    assert prefix.VALID.fullmatch(made) and len(made) == 6
    assert made != prefix.make_prefix({})
    assert prefix.run_prefix() == prefix.run_prefix()


def test_two_processes_get_different_prefixes():
    code = "from one_core.testing.prefix import run_prefix; print(run_prefix())"
    env = {k: v for k, v in os.environ.items() if k != prefix.ENV}
    seen = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        ).stdout.strip()
        for _ in range(3)
    }
    assert len(seen) == 3, seen


def test_environment_pins_the_prefix():
    assert prefix.make_prefix({prefix.ENV: "ci7"}) == "ci7"


@pytest.mark.parametrize("value", ["", "7ab", "Ab", "a-b", "abcdefghi", "a b", "a/b"])
def test_bad_environment_prefix_is_refused(value):
    with pytest.raises(ValueError, match=prefix.ENV):
        prefix.make_prefix({prefix.ENV: value})


def test_scoped_name_fits_an_interface_name():
    assert prefix.scoped_name("br", prefix="t12345") == "t12345br"
    assert prefix.scoped_name("br").startswith(prefix.run_prefix())
    with pytest.raises(ValueError, match="longer than 15"):
        prefix.scoped_name("x" * 10, prefix="t12345")
