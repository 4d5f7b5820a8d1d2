"""In-process tests of the shared pieces: range expansion, option parsing, table engine, XML."""

from __future__ import annotations

import pytest

from one_core.cli import fmt, xmldoc
from one_core.cli.argv import EarlyExit, OptionError, parse_argv
from one_core.cli.base import expand_args, expand_range
from one_core.cli.table import Column, FilterError, Table


@pytest.mark.parametrize(
    ("arg", "expansion"),
    [
        ("[0-2]", ["0", "1", "2"]),
        ("[01-10]", ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"]),
        ("[001-5]", ["1", "2", "3", "4", "5"]),
        ("vm[08-10]", ["vm08", "vm09", "vm10"]),
        ("[08+3]", ["08", "09", "10"]),
        ("[0+3]", ["0", "1", "2"]),
        ("[5-3]", []),
        ("a[1-2]b[3-4]", ["a[1-2]b3", "a[1-2]b4"]),  # only the last group
        ("web", ["web"]),
    ],
)
def test_expand_range(arg, expansion):
    assert expand_range(arg) == expansion


def test_expand_args_keeps_order():
    assert expand_args(["x", "[1-2]", "y"]) == ["x", "1", "2", "y"]


def test_options_are_permuted_and_clustered():
    opts, args = parse_argv(["list", "-vx", "-lid,name", "a", "--order=-id", "--delay", "3"])
    assert args == ["list", "a"]
    assert opts.verbose and opts.xml
    assert opts.list == ["id", "name"]
    assert opts.order == ["-id"]
    assert opts.delay == 3


def test_option_abbreviations_and_double_dash():
    opts, args = parse_argv(["--verb", "--x", "--", "-v", "show"])
    assert opts.verbose and opts.xml
    assert args == ["-v", "show"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-z"], "invalid option: -z"),
        (["list", "-l"], "missing argument: -l"),
        (["-d", "abc"], "invalid argument: -d abc"),
        (["--delay", "x"], "invalid argument: --delay x"),
        (["--nope"], "invalid option: --nope"),
        (["--ver"], "ambiguous option: --ver"),
    ],
)
def test_option_errors(argv, message):
    with pytest.raises(OptionError) as info:
        parse_argv(argv)
    assert str(info.value) == message


def test_actions_run_when_reached():
    seen = []
    with pytest.raises(EarlyExit):
        parse_argv(["--list-columns", "-z"], seen.append)
    assert seen == ["list-columns"]
    with pytest.raises(OptionError):
        parse_argv(["-z", "--version"], seen.append)


def test_filter_arguments_split_like_ruby():
    opts, _ = parse_argv(["-f", "name=we,stat=runn=x,id"])
    assert opts.filter == [("name", "we", "name=we"), ("stat", "runn", "stat=runn=x"),
                           ("id", None, "id")]  # fmt: skip


TABLE = Table(
    [
        Column("id", "ID", 4, "identifier", lambda r: r[0]),
        Column("name", "NAME", 6, "name", lambda r: r[1], left=True),
    ],
    ["id", "name"],
)
ROWS = [("0", "alpha"), ("1", "beta"), ("2", "gamma-long"), ("10", "Beta")]


def test_cells_are_padded_and_truncated():
    assert TABLE.render(ROWS[2:3]) == "\x1b[1m\x1b[4m  ID NAME  \x1b[0m\n   2 gamma-\n"


def test_unknown_column_leaves_a_space():
    assert TABLE.rows(ROWS[:1], ["id", "nope"]) == ["   0 "]
    assert TABLE.header(["id", "nope"]) == "\x1b[1m\x1b[4m  ID\x1b[0m"


def test_order_is_inverted_like_1_4():
    assert [r.split()[0] for r in TABLE.rows(ROWS, ["id", "name"], order=["id"])] == [
        "2", "10", "1", "0"]  # fmt: skip
    assert [r.split()[0] for r in TABLE.rows(ROWS, ["id", "name"], order=["-id"])] == [
        "0", "1", "10", "2"]  # fmt: skip


def test_order_unknown_key_stops_comparison():
    rows = TABLE.rows(ROWS, ["id", "name"], order=["nope", "id"])
    assert [r.split()[0] for r in rows] == ["0", "1", "2", "10"]


def test_filter_is_case_insensitive_regex_on_full_value():
    rows = TABLE.rows(ROWS, ["id", "name"], filters=[("NAME", "^b", "NAME=^b")])
    assert [r.split()[0] for r in rows] == ["1", "10"]
    rows = TABLE.rows(ROWS, ["id", "name"], filters=[("name", "long", "name=long")])
    assert rows == ["   2 gamma-"]
    rows = TABLE.rows(ROWS, ["id"], filters=[("name", "zzz", "name=zzz")])  # not displayed
    assert len(rows) == 4


def test_filter_without_value_is_an_error():
    with pytest.raises(FilterError):
        TABLE.rows(ROWS, ["id"], filters=[("id", None, "id")])


def test_list_columns_text():
    assert TABLE.list_columns() == "       id ( 4) => identifier\n     name ( 6) => name"


@pytest.mark.parametrize(
    ("stime", "etime", "now", "text"),
    [
        ("100", "0", "165", "00 00:01:05"),
        ("0", "93784", "0", "01 02:03:04"),
        ("0", str(327 * 86400 + 7199), "0", "327 01:59:59"),
        ("0", str(365 * 86400), "0", "00 00:00:00"),  # 1971-01-01: days wrap yearly
    ],
)
def test_running_time(monkeypatch, stime, etime, now, text):
    monkeypatch.setenv("ONE_CLI_NOW", now)
    assert fmt.running_time(stime, etime) == text


def test_short_states():
    assert fmt.vm_short_state("3", "0") == ""
    assert fmt.vm_short_state("3", "13") == "shut"
    assert fmt.vm_short_state("7", "0") == "fail"
    assert fmt.host_short_state("4") == "off"


def test_pretty_xml_like_nokogiri():
    doc = xmldoc.parse("<A><B>x &amp; y</B><C></C><D><E>1</E></D></A>")
    assert xmldoc.pretty(doc) == (
        "<A>\n  <B>x &amp; y</B>\n  <C/>\n  <D>\n    <E>1</E>\n  </D>\n</A>"
    )


def test_template_str_forms():
    tmpl = xmldoc.parse("<TEMPLATE><CPU>1</CPU><NIC><IP>1.2.3.4</IP><MAC>m</MAC></NIC></TEMPLATE>")
    assert xmldoc.template_str(tmpl) == "CPU=1\nNIC=[\n  IP=1.2.3.4,\n  MAC=m ]"
    assert xmldoc.template_str(tmpl, indented=False) == "CPU=1\nNIC=[ IP=1.2.3.4, MAC=m ]"


def test_to_data_lists_repeated_tags():
    doc = xmldoc.parse("<T><DISK><S>a</S></DISK><DISK><S>b</S></DISK><CPU>1</CPU></T>")
    assert xmldoc.to_data(doc) == {"DISK": [{"S": "a"}, {"S": "b"}], "CPU": "1"}


def test_top_stops_when_ctrl_c_was_swallowed_mid_pass(capsys):
    """A KeyboardInterrupt raised where Python swallows it (an HTTP response's ``__del__``
    during a fetch) must still end ``top`` after that pass, as 1.4's loop ended on Ctrl-C."""
    import contextlib
    import signal

    from one_core.cli.argv import Options
    from one_core.cli.base import CliExit, Runtime

    calls = []

    def show_once():
        calls.append(1)
        if len(calls) > 3:
            raise CliExit(1)  # the loop ignored the Ctrl-C: stop the test instead of hanging
        with contextlib.suppress(KeyboardInterrupt):  # swallowed, as inside a __del__
            signal.raise_signal(signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    Runtime(tool=None, opts=Options(delay=0)).top(show_once)
    assert calls == [1]
    assert signal.getsignal(signal.SIGINT) is before
