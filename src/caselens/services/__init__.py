"""Services: the one place where rules live.

Every call names an actor and a purpose, checks access, and writes the audit log.
"""

from caselens.services.app import Caselens

__all__ = ["Caselens"]
