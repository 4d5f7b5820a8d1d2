"""The ``$VAR`` language of hooks and context (spec §7.3), on real templates."""

from __future__ import annotations

import pytest

from one_core.template import Template
from one_core.vm_hooks import VarSyntaxError, expand, expand_arguments

VM = Template.parse(
    'NAME = "myvm"\n'
    "VMID = 7\n"
    'NIC = [ NETWORK = "Public", IP = "10.0.0.1", MAC = "00:03:0a:00:00:01" ]\n'
    'NIC = [ NETWORK = "Private LAN", IP = "192.168.0.9", MAC = "00:03:c0:a8:00:09" ]\n'
)
OTHERS = {3: Template.parse('NAME = "other"\nCONTEXT = [ IP_PUBLIC = "1.2.3.4" ]\n')}


def lookup(vid: int) -> Template | None:
    return OTHERS.get(vid)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$NAME > /tmp/test.$VMID", "myvm > /tmp/test.7"),
        ("$NIC[MAC]", "00:03:0a:00:00:01"),
        ('$nic[ip, network="Private LAN"]', "192.168.0.9"),
        ('$NIC[IP, NETWORK="Public"]', "10.0.0.1"),
        ('$NIC[IP,NETWORK="Public"]', "10.0.0.1"),
        ('$NIC[ IP , NETWORK = "Public" ]', "10.0.0.1"),
        ('$NIC[IP, NETWORK="private lan"]', ""),  # the value is case-sensitive
        ('$NIC[IP, NETWORK="Nope"]', ""),
        ("$NIC", ""),
        ("$NAME[IP]", ""),
        ("$MISSING", ""),
        ("$3.IP_PUBLIC", "1.2.3.4"),
        ("$3.ip_public.x", "1.2.3.4.x"),
        ("$9.IP_PUBLIC", ""),
        ("$NAME$VMID", "myvm7"),
        ("$NAME:$VMID", "myvm:7"),
        ("$VMID.log", "7.log"),
        ("$NIC[IP]-x", "10.0.0.1-x"),
        ("$NAME_1", ""),
        ("one-$VMID", "one-7"),
        ("no variables at all", "no variables at all"),
        ("$name", "myvm"),
    ],
)
def test_spec_table(text: str, expected: str) -> None:
    assert expand(text, VM, lookup) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("$NIC[IP]x", "syntax error, unexpected VARIABLE, expecting EOA at line 1, columns 8:9"),
        (
            "a $ b",
            "syntax error, unexpected EOA, expecting $end or VARIABLE or RSTRING or INTEGER "
            "at line 1, columns 3:4",
        ),
        (
            "end$",
            "syntax error, unexpected EOA, expecting $end or VARIABLE or RSTRING or INTEGER "
            "at line 1, columns 3:4",
        ),
        (
            "a$$NAME",
            "syntax error, unexpected EOA, expecting $end or VARIABLE or RSTRING or INTEGER "
            "at line 1, columns 2:3",
        ),
        (
            "$NIC[IP, NETWORK=Public]",
            "syntax error, unexpected VARIABLE, expecting STRING at line 1, columns 17:23",
        ),
        (
            "$NIC[IP, NETWORK='Public']",
            "syntax error, unexpected EOA, expecting STRING at line 1, columns 17:18",
        ),
        (
            "$NIC[IP",
            "syntax error, unexpected EOA, expecting COMMA or CBRACKET at line 1, columns 5:7",
        ),
        ("$3.", "syntax error, unexpected EOA, expecting VARIABLE at line 1, columns 1:3"),
        (
            "$NAME,$VMID",
            "syntax error, unexpected COMMA, expecting OBRACKET or EOA at line 1, columns 5:6",
        ),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(VarSyntaxError) as err:
        expand(text, VM, lookup)
    assert str(err.value) == message


def test_line_numbers_count_newlines() -> None:
    with pytest.raises(VarSyntaxError, match="at line 2,"):
        expand("a\n$NIC[IP]x", VM)


def test_other_vm_without_lookup_is_empty() -> None:
    assert expand("($3.IP_PUBLIC)", VM) == "()"


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("$NAME > /tmp/test.$VMID", ["myvm", ">", "/tmp/test.7"]),
        ("  $VMID   $NAME  ", ["7", "myvm"]),
        ('$NIC[IP, NETWORK="Private LAN"] x', ["192.168.0.9", "x"]),
        ("a\tb\nc", ["a", "b", "c"]),
        ("$MISSING $NAME", ["", "myvm"]),
        ("pre$MISSING post", ["pre", "post"]),
        ("", []),
        ("   ", []),
    ],
)
def test_expand_arguments_splits_literal_text_only(text: str, args: list[str]) -> None:
    assert expand_arguments(text, VM, lookup) == args


@pytest.mark.parametrize(
    "nasty",
    ["a b", "; rm -rf x", "$(touch pwned)", "`id`", 'it\'s "quoted"', "x\ny", "  "],
)
def test_a_value_is_one_argument_whatever_it_holds(nasty: str) -> None:
    template = Template()
    template.add("NAME", nasty)
    template.add("VMID", "7")
    assert expand_arguments("--name=$NAME $VMID", template) == [f"--name={nasty}", "7"]
    assert expand_arguments("$NAME", template) == [nasty]
