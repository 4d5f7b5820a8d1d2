"""Property tests: values survive expansion and context.sh verbatim."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from one_core.template import Template
from one_core.vm_context import context_sh, resolve_context
from one_core.vm_hooks import expand, expand_arguments

# what a template string can hold: anything but NUL
VALUES = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))


def vm_with_name(name: str) -> Template:
    t = Template()
    t.add("NAME", name)
    t.add("VMID", "4")
    return t


@given(st.text(st.characters(blacklist_characters="$", blacklist_categories=("Cs",)), min_size=1))
def test_text_without_dollar_is_copied(text: str) -> None:
    assert expand(text, Template()) == text


@given(VALUES)
def test_a_variable_value_is_always_exactly_one_argument(value: str) -> None:
    assert expand_arguments("$NAME", vm_with_name(value)) == [value]
    assert expand_arguments("x $VMID-$NAME y", vm_with_name(value)) == ["x", f"4-{value}", "y"]


@given(VALUES)
def test_resolved_context_keeps_values_and_keys(value: str) -> None:
    resolved = resolve_context({"HOSTNAME": "$NAME", "ID": "vm-$VMID"}, vm_with_name(value))
    assert resolved == {"HOSTNAME": value, "ID": "vm-4"}


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True), VALUES, max_size=4))
def test_sourcing_context_sh_round_trips(context: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        Path(d, "context.sh").write_text(context_sh(context), encoding="utf-8")
        dump = "; ".join(f'printf "%s\\0" "${k}"' for k in sorted(context)) or "true"
        out = subprocess.run(
            ["sh", "-c", f". ./context.sh; {dump}"], cwd=d, capture_output=True, check=True
        )
        got = out.stdout.decode("utf-8").split("\0")[:-1]
        assert got == [context[k] for k in sorted(context)]
        assert sorted(p.name for p in Path(d).iterdir()) == ["context.sh"]
