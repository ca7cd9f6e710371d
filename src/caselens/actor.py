"""Who is acting, and why: every service call names an actor."""

from __future__ import annotations

import getpass
from dataclasses import dataclass


def os_user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


@dataclass(frozen=True, slots=True)
class Actor:
    """The user a call is made as, the OS account that made it, and the stated purpose."""

    user: str
    purpose: str | None = None
    os_user: str = ""

    @classmethod
    def from_cli(cls, asserted: str | None, purpose: str | None) -> Actor:
        os_user = os_user_name()
        return cls(user=asserted or os_user, purpose=purpose or None, os_user=os_user)
