"""Unit tests of the parameter readers and the key pair template edit (issue 20)."""

from __future__ import annotations

import pytest
from one_econe import params
from one_econe.actions import with_key_pair
from one_econe.errors import EC2Error

from one_core.api import Template


def test_pattern_indexes_only_n_segments():
    rx = params.pattern("Filter.N.Name", "Filter.N.Value.N", "KeyName")
    assert rx.fullmatch("Filter.10.Name") and rx.fullmatch("Filter.1.Value.2")
    assert not rx.fullmatch("Filter.0.Name") and not rx.fullmatch("Filter.1.Nme")
    assert rx.fullmatch("KeyName") and not rx.fullmatch("KeyName.1")


def test_check_known_refuses_the_unknown():
    allowed = params.pattern("InstanceId.N")
    params.check_known({"Action": "X", "InstanceId.2": "1", "DryRun": "false"}, allowed)
    with pytest.raises(EC2Error) as err:
        params.check_known({"InstanceId.1": "1", "Monitoring.Enabled": "true"}, allowed)
    assert (err.value.status, err.value.code) == (400, "UnknownParameter")


def test_filters_in_order_with_wildcards():
    p = {
        "Filter.2.Name": "tag:Name",
        "Filter.2.Value.1": "web-?",
        "Filter.1.Name": "instance-id",
        "Filter.1.Value.10": "b",
        "Filter.1.Value.2": "a*",
    }
    flts = params.filters(p, ["instance-id"], tags=True)
    assert [(f.name, f.values) for f in flts] == [
        ("instance-id", ("a*", "b")),
        ("tag:Name", ("web-?",)),
    ]
    assert flts[0].matches(["abc"]) and flts[0].matches(["b"]) and not flts[0].matches(["c"])
    assert flts[1].matches(["web-1"]) and not flts[1].matches(["web-10"])
    assert params.Filter("x", (r"a\*",)).matches(["a*"])
    assert not params.Filter("x", (r"a\*",)).matches(["ab"])
    with pytest.raises(EC2Error) as err:
        params.filters({"Filter.1.Name": "tag:x", "Filter.1.Value.1": "y"}, [])
    assert err.value.code == "InvalidParameterValue"
    with pytest.raises(EC2Error):
        params.filters({"Filter.1.Name": "instance-id"}, ["instance-id"])  # no value


def test_tag_specifications_and_counts():
    p = {
        "TagSpecification.1.ResourceType": "instance",
        "TagSpecification.1.Tag.2.Key": "b",
        "TagSpecification.1.Tag.1.Key": "a",
        "TagSpecification.1.Tag.1.Value": "1",
    }
    assert params.tag_specifications(p, "instance") == [("a", "1"), ("b", "")]
    with pytest.raises(EC2Error):
        params.tag_specifications(p, "volume")
    assert params.integer({"MaxCount": "3"}, "MaxCount", 1, minimum=1) == 3
    for bad in ("0", "x", "-1"):
        with pytest.raises(EC2Error):
            params.integer({"MaxCount": bad}, "MaxCount", 1, minimum=1)


def test_page():
    items = list(range(5))
    assert params.page(items, {"MaxResults": "2"}) == ([0, 1], "2")
    assert params.page(items, {"MaxResults": "2", "NextToken": "4"}) == ([4], "")
    with pytest.raises(EC2Error) as err:
        params.page(items, {"NextToken": "zz"})
    assert err.value.code == "InvalidNextToken"


def test_key_pair_goes_into_an_existing_context():
    text = 'NAME = vm\nCONTEXT = [ HOSTNAME = "$NAME", TARGET = hdc ]\n'
    out = Template.parse(with_key_pair(text, "my key", "ssh-ed25519 AAAAC3") + "\n")
    assert out.vector("CONTEXT") == {
        "HOSTNAME": "$NAME",
        "TARGET": "hdc",
        "SSH_KEY": "ssh-ed25519 AAAAC3",
    }
    assert out.get("EC2_KEY_NAME") == "my key"
    assert out.get("NAME") == "vm"
