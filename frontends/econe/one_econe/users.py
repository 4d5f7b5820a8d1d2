"""User look-up through oned (spec cloud-apis §1.4): shared with OCCI, see :mod:`one_core.cloud.users`."""

from one_core.cloud.users import CloudUser, UserDirectory

__all__ = ["CloudUser", "UserDirectory"]
