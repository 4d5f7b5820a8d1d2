"""The real 1.4 CLI transcripts (``tests/data/one14/cli-transcripts.raw.txt``).

The transcript was captured with ``out=$(cmd 2>&1); echo "$out"``-style capture: trailing
newlines of an output are dropped and an empty output shows as one empty line. ``ENTRIES``
holds ``(command, recorded output, exit status)`` in that form (``# (...)`` notes removed);
compare with :func:`captured` of our bytes. replay.py plays them on a real oned.
"""

from __future__ import annotations

import re
from pathlib import Path

RAW = Path(__file__).parents[1] / "data" / "one14" / "cli-transcripts.raw.txt"
"""The transcript recorded from the real 1.4 CLI (shipped with the tests: a missing file is an error)."""


def _entries() -> list[tuple[str, str, int]]:
    text = RAW.read_text(encoding="utf-8")
    entries = []
    pattern = re.compile(r"^\$ ([^\n]*)\n(.*?)^\[rc=(\d+)\]\n", re.M | re.S)
    for match in pattern.finditer(text):
        output = re.sub(r"^# \(.*\n", "", match.group(2), flags=re.M)
        entries.append((match.group(1), output, int(match.group(3))))
    return entries


ENTRIES = _entries()


def captured(stdout: str) -> str:
    """Our output as the transcript capture shows it (trailing newlines folded into one)."""
    return stdout.rstrip("\n") + "\n"
