"""UploadImage over HTTP: streamed into the repository, size limit, failures leave nothing."""

from __future__ import annotations

import hashlib
import os


def _tmp_files(stack) -> list[str]:
    return sorted(os.listdir(stack.image_dir / "tmp"))


def test_upload_records_size_and_md5(stack, econe_tool, tmp_path):
    user, password = stack.new_user()
    path = tmp_path / "disk.img"
    data = os.urandom(700 * 1024)
    path.write_bytes(data)
    out = econe_tool("econe-upload", "-M", str(path), env=stack.tool_env(user, password))
    assert out.returncode == 0, out.stdout
    image_id = int(out.stdout.split()[-1])
    from one_cloudkit.images import ImageRepository

    repo = ImageRepository(stack.database, stack.image_dir)
    try:
        image = repo.get(image_id)
    finally:
        repo.close()
    assert image.owner == stack.user_id(user)
    assert image.size == len(data)
    assert image.md5 == hashlib.md5(data).hexdigest()
    assert image.path == str(stack.image_dir / str(image_id))
    assert (image.name, image.description) == (None, None)


def test_upload_over_the_limit_is_refused(stack, econe_tool, tmp_path):
    """main has MAX_UPLOAD = 1 MiB: a larger file gets 413 and leaves no file or row."""
    user, password = stack.new_user()
    before = sorted(os.listdir(stack.image_dir))
    path = tmp_path / "big.img"
    path.write_bytes(b"\0" * (1024 * 1024 + 1))
    out = econe_tool("econe-upload", str(path), env=stack.tool_env(user, password))
    assert out.returncode == 255
    assert out.stdout.startswith("econe-upload: Image larger than the limit of 1048576 bytes")
    assert sorted(os.listdir(stack.image_dir)) == before
    assert _tmp_files(stack) == []
    # exactly the limit is fine
    path.write_bytes(b"\0" * (1024 * 1024))
    out = econe_tool("econe-upload", str(path), env=stack.tool_env(user, password))
    assert out.returncode == 0, out.stdout


def test_unauthenticated_upload_leaves_nothing(stack, econe_tool, image_file):
    user, password = stack.new_user()
    before = sorted(os.listdir(stack.image_dir))
    out = econe_tool("econe-upload", str(image_file), env=stack.tool_env(user, "wrong"))
    assert (out.returncode, out.stdout) == (255, "econe-upload: Invalid credentials\n")
    assert sorted(os.listdir(stack.image_dir)) == before
    assert _tmp_files(stack) == []


def test_upload_without_file_part(stack):
    """1.4 crashed (500); we answer 400 MissingParameter."""
    import http.client
    import uuid

    from one_econe.tools.common import Credentials14, EC2QueryClient
    from one_econe.tools.upload import _field

    user, password = stack.new_user()
    client = EC2QueryClient(Credentials14(user, password), stack.main.url)
    fields = client.signed_params("UploadImage", {}, version="2008-12-01")
    boundary = uuid.uuid4().hex
    body = (
        b"".join(_field(boundary, k, v) for k, v in fields.items()) + f"--{boundary}--\r\n".encode()
    )
    conn = http.client.HTTPConnection("127.0.0.1", stack.main.port, timeout=30)
    conn.request(
        "POST",
        "/",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    resp = conn.getresponse()
    assert resp.status == 400
    assert b"<Code>MissingParameter</Code>" in resp.read()
    conn.close()


def test_sigv4_signed_multipart_upload(stack):
    """SigV4 covers the streamed body: the hash is computed while it is written to disk."""
    import hashlib
    import http.client
    import uuid

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    user, password = stack.new_user()
    secret = hashlib.sha1(password.encode()).hexdigest()
    boundary = uuid.uuid4().hex
    payload = os.urandom(300 * 1024)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="Action"\r\n\r\nUploadImage\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.img"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    url = f"http://127.0.0.1:{stack.main.port}/"

    def send(data: bytes, sign_over: bytes) -> tuple[int, bytes]:
        request = AWSRequest(
            method="POST",
            url=url,
            data=sign_over,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        SigV4Auth(Credentials(user, secret), "ec2", "us-east-1").add_auth(request)
        headers = {
            k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
        }
        conn = http.client.HTTPConnection("127.0.0.1", stack.main.port, timeout=30)
        try:
            conn.request("POST", "/", body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    status, answer = send(body, body)
    assert status == 200, answer
    assert b"<imageId>" in answer
    before = sorted(os.listdir(stack.image_dir))
    tampered = body.replace(payload[:16], b"X" * 16)
    status, answer = send(tampered, body)
    assert status == 401
    assert sorted(os.listdir(stack.image_dir)) == before
    assert _tmp_files(stack) == []
