"""Key pairs: generation (CreateKeyPair), import (ImportKeyPair) and AWS fingerprints.

The stored public key is always re-serialised by ``cryptography`` in OpenSSH
form (``ssh-rsa AAAA...``): only the key type, a blank and base64, so it can
be written into a VM template's CONTEXT without any quoting concern.

Fingerprints as AWS computes them: a created RSA key — SHA-1 of the PKCS#8 DER
private key; an imported RSA key — MD5 of the DER public key; ED25519 keys —
base64 SHA-256 of the OpenSSH public key blob.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from one_econe.errors import EC2Error, bad_request

_NAME_RE = re.compile(r"[ -~]{1,255}")
_FORBIDDEN = set('"\\')


@dataclass(frozen=True)
class KeyMaterial:
    key_type: str
    public_openssh: str
    fingerprint: str
    private_pem: str = ""


def check_name(name: str) -> str:
    """A key pair name: 1-255 printable ASCII characters, no ``"`` or ``\\``."""
    if not _NAME_RE.fullmatch(name) or _FORBIDDEN & set(name):
        raise bad_request(f"Invalid key pair name: '{name}'")
    return name


def _colons(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def _openssh(public_key: rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def _ed25519_fingerprint(openssh: str) -> str:
    blob = base64.b64decode(openssh.split()[1])
    return base64.b64encode(hashlib.sha256(blob).digest()).decode()


def generate(key_type: str) -> KeyMaterial:
    """A new ``rsa`` (2048 bit) or ``ed25519`` key pair; the private key in PEM."""
    if key_type == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public = _openssh(private.public_key())
        return KeyMaterial("rsa", public, _colons(hashlib.sha1(der).digest()), pem)
    if key_type == "ed25519":
        private_ed = ed25519.Ed25519PrivateKey.generate()
        pem = private_ed.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        ).decode()
        public = _openssh(private_ed.public_key())
        return KeyMaterial("ed25519", public, _ed25519_fingerprint(public), pem)
    raise bad_request(f"Invalid key type: '{key_type}'. Supported: rsa, ed25519")


def load_public(material_b64: str) -> KeyMaterial:
    """``PublicKeyMaterial`` (base64 of an OpenSSH or PEM public key) → key material.

    400 ``InvalidKey.Format`` for anything that is not an RSA or ED25519 public key.
    """
    try:
        raw = base64.b64decode(material_b64, validate=True)
    except (binascii.Error, ValueError):
        raw = material_b64.encode()
    try:
        key = (
            serialization.load_pem_public_key(raw)
            if raw.lstrip().startswith(b"-----")
            else serialization.load_ssh_public_key(raw.strip())
        )
    except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm):
        raise EC2Error(
            400, "InvalidKey.Format", "Key is not in valid OpenSSH public key format"
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        der = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return KeyMaterial("rsa", _openssh(key), _colons(hashlib.md5(der).digest()))
    if isinstance(key, ed25519.Ed25519PublicKey):
        public = _openssh(key)
        return KeyMaterial("ed25519", public, _ed25519_fingerprint(public))
    raise EC2Error(400, "InvalidKey.Format", "Only RSA and ED25519 keys are supported")
