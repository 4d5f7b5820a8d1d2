"""Attribute names are one string for every template (issue 19: the thousands of cached
VMs' templates hold the same dozen names)."""

from __future__ import annotations

from one_core.template import Template

TEXT = 'name="a"\nMEMORY=64\nDISK=[source="/x",target=hda]\n'


def test_parsed_names_are_shared_between_templates():
    first, second = Template.parse(TEXT), Template.parse(TEXT)
    for (name_a, _), (name_b, _) in zip(first.attributes, second.attributes, strict=True):
        assert name_a is name_b


def test_added_and_set_names_and_vector_keys_are_shared():
    first, second = Template(), Template()
    for template in (first, second):
        template.add("cpu", "1")
        template.set("vmid", "7")
        template.add("nic", {"network": "n"})
    for (name_a, value_a), (name_b, value_b) in zip(
        first.attributes, second.attributes, strict=True
    ):
        assert name_a is name_b
        if isinstance(value_a, dict):
            assert isinstance(value_b, dict)
            assert [k for k in value_a][0] is [k for k in value_b][0]
    assert first.attributes == [("CPU", "1"), ("VMID", "7"), ("NIC", {"NETWORK": "n"})]
