"""Fixtures of the oned-level end-to-end tests.

The moto_server, boto3 and throttling-server fixtures are those of
``plugins/vmm_ec2/tests/conftest.py``, loaded as a module and re-exported here
(one definition for both suites).
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

_EC2 = pathlib.Path(__file__).resolve().parents[2] / "plugins/vmm_ec2/tests/conftest.py"
if "one_tests_ec2_fixtures" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("one_tests_ec2_fixtures", _EC2)
    assert _spec is not None and _spec.loader is not None
    sys.modules["one_tests_ec2_fixtures"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["one_tests_ec2_fixtures"])

from one_tests_ec2_fixtures import (  # noqa: E402,F401  (re-exported fixtures)
    CREDENTIALS,
    ami,
    amis,
    ec2,
    moto_url,
    throttling_server,
)
