"""SigV2 exactly as the 1.4 econe tools signed (amazon-ec2 gem), and the 1.4 documents.

The gem's signing is re-done here independently (HMAC-SHA1, ``H`` = the
configured host without port, Ruby ``CGI.escape`` with ``%20``), checked
against the spec's test vector (cloud-apis §3.2).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

NS = "{http://ec2.amazonaws.com/doc/2009-04-04/}"
VECTOR_PARAMS = {
    "AWSAccessKeyId": "oneuser",
    "Action": "DescribeImages",
    "SignatureMethod": "HmacSHA1",
    "SignatureVersion": "2",
    "Timestamp": "2010-01-15T10:20:30Z",
    "Version": "2009-11-30",
}
VECTOR_SIGNATURE = "2YArK51VBQk8XQNF7Kq1vg8Jf3I="


def cgi_escape(text: str) -> str:
    """Ruby 1.8 ``CGI.escape`` then ``+`` → ``%20`` (keeps only ``A-Za-z0-9_.-``)."""
    return urllib.parse.quote(text, safe="-_.").replace("~", "%7E")


def gem_sign(params: dict[str, str], secret: str, host: str, method: str = "POST") -> str:
    query = "&".join(
        f"{cgi_escape(k)}={cgi_escape(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    text = f"{method}\n{host}\n/\n{query}"
    return base64.b64encode(
        hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
    ).decode()


def gem_params(user: str, action: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    params = {
        "Action": action,
        "SignatureVersion": "2",
        "SignatureMethod": "HmacSHA1",
        "AWSAccessKeyId": user,
        "Version": "2009-11-30",
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    params.update(extra or {})
    return params


def post(port: int, params: dict[str, str], method: str = "POST") -> tuple[int, bytes, str]:
    """Send as the gem did: form body, ``CGI.escape`` (spaces as ``+``)."""
    body = "&".join(
        f"{urllib.parse.quote_plus(k)}={urllib.parse.quote_plus(v)}" for k, v in params.items()
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if method == "GET":
            conn.request("GET", "/?" + body)
        else:
            conn.request(
                "POST",
                "/",
                body=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": "github-amazon-ec2-ruby-gem",
                },
            )
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.getheader("Content-Type", "")
    finally:
        conn.close()


def test_spec_vector_signature():
    from one_econe.auth.sigv2 import canonical_query, escape_14, sign, string_to_sign

    key = hashlib.sha1(b"pw").hexdigest()
    assert key == "1a91d62f7ca67399625a4368a6ab5d4a3baa6073"
    query = canonical_query(VECTOR_PARAMS, escape_14)
    assert query == (
        "AWSAccessKeyId=oneuser&Action=DescribeImages&SignatureMethod=HmacSHA1"
        "&SignatureVersion=2&Timestamp=2010-01-15T10%3A20%3A30Z&Version=2009-11-30"
    )
    text = string_to_sign("POST", "myhost.example.com", "/", query)
    assert sign(key, text) == VECTOR_SIGNATURE
    assert gem_sign(VECTOR_PARAMS, key, "myhost.example.com") == VECTOR_SIGNATURE


def test_spec_vector_request_gets_the_14_document(stack, econe_tool, image_file):
    """The vector's exact request (Timestamp 2010) on a server without clock check."""
    if stack.admin.userpool_info().find("USER[NAME='oneuser']") is None:
        stack.new_user("pw", name="oneuser")
    params = dict(VECTOR_PARAMS, Signature=VECTOR_SIGNATURE)
    status, body, ctype = post(stack.legacy.port, params)
    assert status == 200, body
    assert ctype.startswith("text/xml")
    root = ET.fromstring(body)
    assert root.tag == NS + "DescribeImagesResponse"
    assert [el.tag for el in root] == [NS + "requestId", NS + "imagesSet"]

    res = econe_tool("econe-upload", str(image_file), env=stack.tool_env("oneuser", "pw"))
    assert res.returncode == 0, res.stdout + res.stderr
    image_id = res.stdout.split()[-1]
    status, body, _ = post(stack.legacy.port, params)
    assert status == 200
    (item,) = ET.fromstring(body).find(NS + "imagesSet")
    fields = {el.tag.removeprefix(NS): el.text for el in item}
    assert fields == {
        "imageId": image_id,
        "imageLocation": str(stack.image_dir / image_id),
        "imageState": "available",
        "imageOwnerId": "oneuser",
        "isPublic": "false",
        "architecture": "i386",
        "imageType": "machine",
    }

    # The same 2010 request on a server with the default 900 s window is refused.
    status, body, _ = post(stack.main.port, params)
    assert status == 400
    assert b"<Code>RequestExpired</Code>" in body


class GemUser:
    """A new user of ``stack`` whose requests are signed as the 1.4 gem signed them."""

    def __init__(self, stack):
        self.name, self.password = stack.new_user()
        self.secret = hashlib.sha1(self.password.encode()).hexdigest()

    def signed(
        self,
        action: str,
        extra: dict[str, str] | None = None,
        *,
        drop: tuple[str, ...] = (),
        host: str = "myhost.example.com",
        method: str = "POST",
        secret: str | None = None,
    ) -> dict[str, str]:
        """The parameters of ``action`` plus ``extra``, less ``drop``, signed for ``host``."""
        params = gem_params(self.name, action, extra)
        for name in drop:
            del params[name]
        params["Signature"] = gem_sign(params, secret or self.secret, host, method)
        return params


def test_gem_style_request_with_blanks_and_tilde(stack):
    """``~`` → ``%7E`` and ``+`` for spaces, as the 1.4 gem sent them; unknown params signed."""
    params = GemUser(stack).signed(
        "DescribeImages",
        {"Owner.1": "a b~c", "Filter.1.Name": "image-id", "Filter.1.Value.1": "x*y"},
    )
    status, body, _ = post(stack.main.port, params)
    assert status == 200, body


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_sigv2_with_the_host_header_and_real_method(stack, method):
    """§7 #10: a client signing ``host:port`` and the real method (GET accepted, §7 #5)."""
    host = f"127.0.0.1:{stack.main.port}"
    params = GemUser(stack).signed("DescribeInstances", host=host, method=method)
    status, body, _ = post(stack.main.port, params, method)
    assert status == 200, body
    assert ET.fromstring(body).tag == NS + "DescribeInstancesResponse"


def test_bad_signature_is_an_ec2_error_document(stack):
    params = GemUser(stack).signed("DescribeImages", secret="not-the-secret")
    status, body, _ = post(stack.main.port, params)
    assert status == 401
    root = ET.fromstring(body)
    # What the 1.4 gem's aws_error? reads: Response/Errors/Error/{Code,Message}
    assert root.tag == "Response"
    assert root.findtext("Errors/Error/Code") == "AuthFailure"
    assert root.findtext("Errors/Error/Message") == "Invalid credentials"
    assert root.findtext("RequestID")


def test_signature_over_other_params_is_refused(stack):
    """Changing a signed parameter after signing breaks the signature."""
    params = GemUser(stack).signed("TerminateInstances", {"InstanceId.1": "1"})
    params["InstanceId.1"] = "2"
    status, body, _ = post(stack.main.port, params)
    assert status == 401
    assert b"<Code>AuthFailure</Code>" in body


@pytest.mark.parametrize(
    ("action", "drop", "code"),
    [("AttachVolume", (), "InvalidAction"), ("", ("Action",), "MissingAction")],
)
def test_unknown_and_missing_action(stack, action, drop, code):
    status, body, _ = post(stack.main.port, GemUser(stack).signed(action, drop=drop))
    assert status == 400
    assert f"<Code>{code}</Code>".encode() in body


def test_missing_timestamp_with_clock_check(stack):
    gem = GemUser(stack)
    status, body, _ = post(stack.main.port, gem.signed("DescribeImages", drop=("Timestamp",)))
    assert status == 400
    assert b"<Code>MissingParameter</Code>" in body
    # An Expires in the future replaces the Timestamp; one in the past is refused.
    for expires, want in (
        (time.time() + 60, 200),
        (time.time() - 60, 400),
    ):
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
        params = gem.signed("DescribeImages", {"Expires": when}, drop=("Timestamp",))
        status, body, _ = post(stack.main.port, params)
        assert status == want, body


def test_botocore_sigv2_is_accepted(stack, boto3_client):
    """botocore's own SigV2 (HMAC-SHA256, host:port, ``~`` kept)."""
    import boto3
    from botocore.config import Config

    user, password = stack.new_user()
    ec2 = boto3.client(
        "ec2",
        endpoint_url=stack.main.url,
        region_name="us-east-1",
        aws_access_key_id=user,
        aws_secret_access_key=hashlib.sha1(password.encode()).hexdigest(),
        config=Config(signature_version="v2", retries={"max_attempts": 1}),
    )
    assert ec2.describe_images()["Images"] == []


def test_wrong_path_after_authentication(stack):
    body = urllib.parse.urlencode(GemUser(stack).signed("DescribeImages"))
    conn = http.client.HTTPConnection("127.0.0.1", stack.main.port, timeout=30)
    conn.request(
        "POST", "/other", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    resp = conn.getresponse()
    assert resp.status == 404
    assert b"<Code>InvalidURI</Code>" in resp.read()
    conn.close()


def test_gem_run_instances_with_addressing_type(stack, econe_tool, image_file):
    """The 0.5.x gem adds ``AddressingType=public``: honoured; another value is refused."""
    gem = GemUser(stack)
    res = econe_tool("econe-upload", str(image_file), env=stack.tool_env(gem.name, gem.password))
    image_id = res.stdout.split()[-1]
    run = {"ImageId": image_id, "MinCount": "1", "MaxCount": "1", "InstanceType": "small"}
    params = gem.signed("RunInstances", dict(run, AddressingType="private"))
    status, body, _ = post(stack.main.port, params)
    assert status == 400 and b"<Code>InvalidParameterValue</Code>" in body
    params = gem.signed("RunInstances", dict(run, AddressingType="public"))
    status, body, _ = post(stack.main.port, params)
    assert status == 200, body
    vid = ET.fromstring(body).findtext(f"{NS}instancesSet/{NS}item/{NS}instanceId")
    stack.admin.vm_action("finalize", int(vid))
