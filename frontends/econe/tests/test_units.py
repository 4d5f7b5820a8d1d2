"""In-process parts: configuration, templates, state mapping, documents, SigV4 verification."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from one_econe import views
from one_econe.auth.common import SignedRequest, check_clock
from one_econe.auth.sigv4 import parse_authorization, verify_sigv4
from one_econe.config import EconeConfig, parse_config_text
from one_econe.errors import EC2Error, auth_failure
from one_econe.states import ec2_state
from one_econe.templates import TemplateError, render, render_file

from one_core.vm.states import LcmState, VmState

ETC = Path(__file__).resolve().parents[1] / "one_econe" / "etc"


# -- configuration (§1.2, §1.3) ------------------------------------------------


def test_config_syntax():
    values = parse_config_text(
        "# comment\n"
        "user = oneadmin\n"
        "PASSWORD=ab#cd\n"
        "BRIDGE=\n"
        "X = 1\n"
        "VM_TYPE=[NAME=m1.small, TEMPLATE=m1.small.erb]\n"
        "VM_TYPE=[\n  name = large,\n  template = large.erb,\n  CPU = 4\n]\n"
        "#VM_TYPE=[NAME=off, TEMPLATE=off.erb]\n"
    )
    assert values["USER"] == "oneadmin"
    assert values["PASSWORD"] == "ab"  # '#' starts a comment (kept, §7 #1)
    assert values["BRIDGE"] == ""  # fixed: does not swallow the next line (§7 #2)
    assert values["X"] == "1"
    assert values["VM_TYPE"] == [
        {"NAME": "m1.small", "TEMPLATE": "m1.small.erb"},
        {"NAME": "large", "TEMPLATE": "large.erb", "CPU": "4"},
    ]
    assert "CPU" not in values and "NAME" not in values


def test_config_keys_and_defaults(tmp_path):
    cfg = EconeConfig.from_text(
        "DATABASE=/x/econe.db\nIMAGE_DIR=/x/images\nSERVER=cloud.example.com\nPORT=4568\n"
        "VM_TYPE=[NAME=m1.small, TEMPLATE=m1.small.erb]\nONE_XMLRPC=http://h:1/RPC2\n",
        tmp_path,
        env={},
    )
    assert (cfg.server, cfg.port, cfg.signature_host) == (
        "cloud.example.com",
        4568,
        "cloud.example.com",
    )
    assert cfg.one_xmlrpc == "http://h:1/RPC2"  # read from the file (§7 #3)
    assert (cfg.max_skew, cfg.max_upload, cfg.image_ownership) == (900, None, True)
    assert list(cfg.vm_types) == ["m1.small"]
    # what both servers share (ONE_XMLRPC, IMAGE_OWNERSHIP, ...): tests/cloudkit
    ssl = EconeConfig.from_text(
        "DATABASE=d\nIMAGE_DIR=i\nSSL_SERVER=ssl\nMAX_SKEW=0\n", tmp_path, env={}
    )
    assert (ssl.signature_host, ssl.max_skew) == ("ssl", 0)


def test_shipped_config_loads():
    cfg = EconeConfig.load(ETC / "econe.conf", env={})
    assert cfg.vm_types["m1.small"]["TEMPLATE"] == "m1.small.erb"
    assert (cfg.template_dir / "m1.small.erb").is_file()


# -- templates (§1.5, §3.7) ---------------------------------------------------------


def test_m1_small_renders_as_14():
    text = render_file(
        ETC / "ec2query_templates" / "m1.small.erb",
        {
            "erb_vm_info": {
                "img_path": "/srv/one/images/5",
                "img_id": 5,
                "instance_type": "m1.small",
            }
        },
    )
    assert text == (
        "NAME   = eco-vm\n"
        "CPU    = 0.2\n"
        "MEMORY = 256\n"
        "OS = [ kernel     = /vmlinuz,\n"
        "       initrd     = /initrd.img,\n"
        "       root       = sda1,\n"
        '       kernel_cmd = "ro xencons=tty console=tty1"]\n'
        "DISK = [ source   = /srv/one/images/5,\n"
        "         clone    = no,\n"
        "         target   = sda1,\n"
        "         readonly = no]\n"
        'NIC=[NETWORK="Public EC2"]\n'
        "IMAGE_ID = 5\n"
        "INSTANCE_TYPE = m1.small\n"
    )


def test_template_subset():
    variables = {"erb_user_name": "bob", "instance_type": {"NAME": "x"}, "@config": {"SERVER": "s"}}
    assert render("<%# c %>\nA=<%= erb_user_name %>-<%= instance_type['NAME'] %>", variables) == (
        "\nA=bob-x"
    )
    assert render("S=<%= @config[:server] -%>\nT", variables) == "S=sT"
    with pytest.raises(TemplateError):
        render("<% if true %>x<% end %>", variables)
    with pytest.raises(TemplateError):
        render("<%= system('ls') %>", variables)


# -- states (§3.10, §7 #12) -----------------------------------------------------------


EC2_STATES: dict[tuple[int, str], list[tuple[VmState, int]]] = {
    (0, "pending"): [
        (VmState.PENDING, 0),
        (VmState.HOLD, 0),
        (VmState.ACTIVE, LcmState.PROLOG),
        (VmState.ACTIVE, LcmState.PROLOG_RESUME),
        (VmState.ACTIVE, LcmState.LCM_INIT),
    ],
    (16, "running"): [
        (VmState.ACTIVE, LcmState.BOOT),
        (VmState.ACTIVE, LcmState.RUNNING),
        (VmState.ACTIVE, LcmState.MIGRATE),
        (VmState.ACTIVE, LcmState.SAVE_MIGRATE),
    ],
    (32, "shutting-down"): [(VmState.ACTIVE, LcmState.EPILOG), (VmState.ACTIVE, LcmState.SHUTDOWN)],
    (48, "terminated"): [
        (VmState.ACTIVE, LcmState.FAILURE),
        (VmState.DONE, 0),
        (VmState.FAILED, 0),
    ],
    (64, "stopping"): [
        (VmState.ACTIVE, LcmState.SAVE_STOP),
        (VmState.ACTIVE, LcmState.SAVE_SUSPEND),
        (VmState.ACTIVE, LcmState.EPILOG_STOP),
    ],
    (80, "stopped"): [(VmState.STOPPED, 0), (VmState.SUSPENDED, 0)],
}
"""Each EC2 instance state (code, name) and the 1.4 (STATE, LCM_STATE) pairs shown as it."""


@pytest.mark.parametrize(
    ("state", "lcm", "want"),
    [(state, lcm, want) for want, pairs in EC2_STATES.items() for state, lcm in pairs],
)
def test_state_mapping(state, lcm, want):
    got = ec2_state(int(state), int(lcm))
    assert (got.code, got.name) == want


# -- documents parse with botocore's ec2 parser (§8.3 item 5) -------------------------


def _parse(operation: str, body: bytes, status: int = 200):
    model = ServiceModel(Loader().load_service_model("ec2", "service-2"), "ec2")
    op = model.operation_model(operation)
    return create_parser("ec2").parse(
        {"status_code": status, "headers": {}, "body": body}, op.output_shape
    )


def test_documents_parse_with_botocore():
    vm = views.InstanceView(
        15, "5", views.RUNNING, "192.168.0.5", "m1.small", "2010-01-15T11:20:30+01:00"
    )
    run = _parse("RunInstances", views.run_instances("rid", "oneuser", [vm]))
    assert run["Instances"][0]["InstanceId"] == "15"
    assert run["Instances"][0]["AmiLaunchIndex"] == 0
    assert run["Instances"][0]["LaunchTime"].utcoffset() == dt.timedelta(hours=1)
    assert run["ResponseMetadata"]["RequestId"] == "rid"
    desc = _parse("DescribeInstances", views.describe_instances("r", "oneuser", [vm, vm]))
    assert len(desc["Reservations"][0]["Instances"]) == 2
    assert _parse("DescribeImages", views.describe_images("r", "u", []))["Images"] == []
    term = _parse("TerminateInstances", views.terminate_instances("r", [(15, views.PENDING)]))
    item = term["TerminatingInstances"][0]
    assert item["PreviousState"]["Name"] == "pending"
    assert item["CurrentState"]["Name"] == "shutting-down"


def test_values_are_escaped():
    body = views.describe_images("r", "a&b<c>", [(1, '/x/"1"')])
    assert b"a&amp;b&lt;c&gt;" in body and b"&quot;1&quot;" in body


def test_error_document_shape():
    body = auth_failure().document("req-1")
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert b"<Response><Errors><Error><Code>AuthFailure</Code>" in body
    assert EC2Error(400, "InvalidAMIID.NotFound", "x").code[0].isupper()


# -- SigV4 verification against botocore's signer ------------------------------------


def _signed(secret: str, body: str, host: str = "cloud.example.com:4567") -> SignedRequest:
    request = AWSRequest(
        method="POST",
        url=f"http://{host}/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials("oneuser", secret), "ec2", "eu-west-1").add_auth(request)
    headers = {
        k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
    }
    return SignedRequest(
        method="POST",
        path="/",
        query_string="",
        headers=headers,
        params={},
        body_sha256=hashlib.sha256(body.encode()).hexdigest(),
        host=host,
    )


def test_sigv4_verifies_botocore_signatures():
    secret = hashlib.sha1(b"pw").hexdigest()
    body = "Action=RunInstances&Version=2016-11-15&ImageId=5&MinCount=1&MaxCount=1&InstanceType=m1.small"
    rq = _signed(secret, body)
    auth = parse_authorization(rq.headers["authorization"])
    assert (auth.access_key, auth.region, auth.service) == ("oneuser", "eu-west-1", "ec2")
    assert verify_sigv4(rq, auth, secret)
    assert not verify_sigv4(rq, auth, "other")
    tampered = SignedRequest(**{**rq.__dict__, "body_sha256": hashlib.sha256(b"x").hexdigest()})
    assert not verify_sigv4(tampered, auth, secret)
    other_host = SignedRequest(**{**rq.__dict__, "host": "evil.example.com:4567"})
    assert not verify_sigv4(other_host, auth, secret)


def test_clock_window():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    check_clock(now - dt.timedelta(seconds=899), None, 900, now)
    check_clock(now + dt.timedelta(seconds=899), None, 900, now)
    with pytest.raises(EC2Error) as err:
        check_clock(now - dt.timedelta(seconds=901), None, 900, now)
    assert err.value.code == "RequestExpired"
    check_clock(now - dt.timedelta(days=5000), None, 0, now)  # MAX_SKEW = 0: 1.4, no check
    check_clock(None, now + dt.timedelta(seconds=5), 900, now)
    with pytest.raises(EC2Error):
        check_clock(None, now - dt.timedelta(seconds=1), 900, now)


# -- IMAGE_OWNERSHIP (RunInstances with someone else's image) --------------------------


class _FakeOned:
    """Stands in for oned's XML-RPC client: records the allocated template."""

    def __init__(self) -> None:
        self.templates: list[str] = []

    def vm_allocate(self, text: str) -> int:
        self.templates.append(text)
        return 7

    def vm_info(self, vid: int):
        import xml.etree.ElementTree as ET

        return ET.fromstring(
            f"<VM><ID>{vid}</ID><UID>4</UID><STATE>1</STATE><LCM_STATE>0</LCM_STATE>"
            "<STIME>0</STIME><TEMPLATE/></VM>"
        )


@pytest.mark.parametrize(("flag", "allowed"), [("yes", False), ("no", True)])
def test_image_ownership_flag(tmp_path, flag, allowed):
    from one_cloudkit.images import ImageRepository
    from one_econe.actions import EconeActions
    from one_econe.users import CloudUser

    (tmp_path / "t.erb").write_text("DISK = [ source = <%= erb_vm_info[:img_path] %> ]\n")
    cfg = EconeConfig.from_text(
        f"DATABASE={tmp_path}/db\nIMAGE_DIR={tmp_path}/img\nIMAGE_OWNERSHIP={flag}\n"
        "VM_TYPE=[NAME=t, TEMPLATE=t.erb]\n",
        tmp_path,
        env={},
    )
    repo = ImageRepository(cfg.database, cfg.image_dir)
    image = repo.add_stream(3, [b"x"])
    oned = _FakeOned()
    actions = EconeActions(cfg, repo, lambda user: oned)
    params = {"ImageId": str(image.id), "InstanceType": "t"}
    bob = CloudUser(4, "bob", "h")
    if allowed:
        body = actions.run_instances(bob, params, "r")
        assert b"<instanceId>7</instanceId>" in body
        assert oned.templates == [f"DISK = [ source = {image.path} ]\n"]
    else:
        with pytest.raises(EC2Error) as err:
            actions.run_instances(bob, params, "r")
        assert (err.value.status, err.value.code) == (403, "UnauthorizedOperation")
        assert oned.templates == []
    repo.close()
