"""A per-run name prefix for machine-wide resources the tests create.

libvirt domains on ``qemu:///system``, Linux bridges, veth pairs and network
namespaces are shared by every process of the machine: two test runs (say
``make test`` in two clones) that both name a domain ``one-0`` or a bridge
``onee2e1`` collide. Tests put :func:`run_prefix` in front of such names, so
each run has its own::

    from one_core.testing.prefix import run_prefix, scoped_name

    domain_prefix = f"{run_prefix()}-one-"   # vmm_kvm DOMAIN_PREFIX
    bridge = scoped_name("br")               # e.g. "t3fa91br"

The prefix is made once per process from the pid and random bits: a lower-case
letter and five hex digits (six characters, valid in domain, interface, netns
and user names). ``ONE_TEST_RUN_PREFIX`` in the environment overrides it (to
find a run's leftovers, or to share one prefix with a child process).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
from collections.abc import Mapping

ENV = "ONE_TEST_RUN_PREFIX"
VALID = re.compile(r"[a-z][a-z0-9]{0,7}")
"""What a prefix may be: short enough for a 15-character interface name with a suffix."""
IFNAME_MAX = 15
"""Linux interface names (bridges, veths) have at most 15 characters."""


def make_prefix(environ: Mapping[str, str] = os.environ) -> str:
    """A new prefix (or ``environ[ENV]``, checked); :func:`run_prefix` keeps the first one."""
    given = environ.get(ENV)
    if given is not None:
        if not VALID.fullmatch(given):
            raise ValueError(f"{ENV}={given!r}: want a lower-case letter and up to 7 [a-z0-9]")
        return given
    seed = f"{os.getpid()}-{secrets.token_hex(8)}".encode()
    return "t" + hashlib.sha256(seed).hexdigest()[:5]


@functools.cache
def run_prefix() -> str:
    """This test run's prefix (the same for every call in this process)."""
    return make_prefix()


def scoped_name(suffix: str, limit: int = IFNAME_MAX, prefix: str | None = None) -> str:
    """``<run prefix><suffix>``, refused when longer than ``limit`` (interface names)."""
    name = f"{prefix or run_prefix()}{suffix}"
    if len(name) > limit:
        raise ValueError(f"{name!r} is longer than {limit} characters")
    return name
