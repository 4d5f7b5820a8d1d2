"""Request authentication: SigV4 (boto3 today) and SigV2 (1.4's tools), spec §3.2, §8.3."""

from one_econe.auth.common import SignedRequest, check_clock
from one_econe.auth.sigv2 import verify_sigv2
from one_econe.auth.sigv4 import is_sigv4, verify_sigv4

__all__ = ["SignedRequest", "check_clock", "is_sigv4", "verify_sigv2", "verify_sigv4"]
