"""User look-up through oned (spec cloud-apis §1.4): shared with OCCI, see :mod:`one_cloudkit.users`."""

from one_cloudkit.users import CloudUser, UserDirectory

__all__ = ["CloudUser", "UserDirectory"]
