"""The real 1.4 CLI session, replayed on a real oned, compared byte for byte (ANSI included).

Every ``oneuser`` / ``onehost`` / ``onevnet`` / ``onevm`` command of
tests/data/one14/cli-transcripts.raw.txt runs, in the recorded order, against one oned
subprocess with the dummy drivers (:class:`replay.Replay`): the tools themselves create the
users, hosts, networks and VMs, so ids, states, leases, histories and monitoring figures are
the daemon's own. Output and exit status must equal the recording after
:func:`replay.normalise`, which replaces only wall-clock values (dates, running times, epoch
time elements of ``-x`` documents). The dummy IM reports the figures 1.4's dummy IM did
(``one_drivers_dummy.im.DEFAULT_HOST``), so host monitoring output is compared as recorded.

No transcript needs the canned server (tests/cli/fake_oned.py) any more. What is not
compared here, and why:

* ``onevm show 99`` — the 1.4 CLI crashed (a Ruby ``NoMethodError`` trace, rc 1) on a missing
  VM; we print oned's error like every other command does (docs/decisions/cli.md), which is
  the named expectation :data:`DEVIATIONS` checks instead, also on the real oned.
* ``cat`` / ``ls`` / ``tail`` entries — not CLI output: the ``cat templates/...`` ones are
  the template files the replay writes; the others show oned's own files (vm.log,
  transfer scripts, sched.log), not the tools'.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from replay import STEPS, Replay, Step, normalise
from transcripts import captured

DEVIATIONS: dict[str, tuple[str, int]] = {
    "onevm show 99": ("Error: Error getting vm with VID = 99\n", 255),
}
"""Commands whose 1.4 output we deliberately do not reproduce → our output and exit status."""

CLI_STEPS = [step for step in STEPS if step.is_cli and step.command not in DEVIATIONS]
DEVIATION_STEPS = [step for step in STEPS if step.command in DEVIATIONS]


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory, oned_process_cls: type) -> Iterator[Replay]:
    """The session's oned (``oned_process_cls`` of the one_core.testing plugin) and progress."""
    session = Replay(tmp_path_factory.mktemp("one14-session"), oned_process_cls)
    yield session
    session.close()


def test_the_whole_session_is_covered():
    """Every CLI entry of the transcript is either compared or a named deviation."""
    cli = [step for step in STEPS if step.is_cli]
    assert len(cli) == len(CLI_STEPS) + len(DEVIATION_STEPS)
    assert len(CLI_STEPS) == 82  # the recording has 83 CLI entries
    assert {step.command for step in DEVIATION_STEPS} == set(DEVIATIONS)


@pytest.mark.parametrize("step", CLI_STEPS, ids=lambda step: step.id)
def test_transcript_step(replay: Replay, step: Step) -> None:
    result = replay.result(step)
    assert normalise(captured(result.out)) == normalise(step.output)
    assert result.rc == step.rc


@pytest.mark.parametrize("step", DEVIATION_STEPS, ids=lambda step: step.id)
def test_named_deviation(replay: Replay, step: Step) -> None:
    result = replay.result(step)
    assert (result.out, result.rc) == DEVIATIONS[step.command]


def test_normalise_replaces_only_clock_values():
    row = "   0   4          host02 11/25 08:38:12             -- 00 00:00:06   none\n"
    assert normalise(row) == (
        "   0   4          host02 MM/DD hh:mm:ss             -- dd hh:mm:ss   none\n"
    )
    doc = "<STIME>1795595892</STIME><PSTIME>0</PSTIME><ID>1795595892</ID><SEQ>4</SEQ>"
    assert normalise(doc) == "<STIME><t></STIME><PSTIME>0</PSTIME><ID>1795595892</ID><SEQ>4</SEQ>"
    assert normalise("MAX MEM               : 16777216            ") == (
        "MAX MEM               : 16777216            "
    )
