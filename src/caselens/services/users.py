"""Installation set-up and users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select

from caselens.actor import Actor
from caselens.db.schema import users
from caselens.db.types import utcnow
from caselens.errors import AccessDenied, InvalidInput
from caselens.services.access import InstallationRole, parse_installation_role, user_row
from caselens.services.base import Service


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    role: str
    created_at: datetime
    created_by: str


class UserService(Service):
    def init(self, actor: Actor) -> UserInfo:
        """Create the data directory, database and signing key; the OS user becomes admin."""
        self.runtime.blobs.ensure()
        with self._transaction() as connection:
            existing = connection.execute(select(func.count()).select_from(users)).scalar_one()
            row = connection.execute(select(users).where(users.c.name == actor.os_user)).first()
            if row is None and existing == 0:
                connection.execute(
                    insert(users).values(
                        name=actor.os_user,
                        role=InstallationRole.ADMIN.value,
                        created_at=utcnow(),
                        created_by=actor.os_user,
                    )
                )
            self._audit(
                connection,
                actor,
                "installation.init",
                details={"home": str(self.runtime.settings.resolved_home)},
            )
            row = connection.execute(select(users).where(users.c.name == actor.os_user)).first()
        if row is None:
            raise AccessDenied(
                f"the installation already has users and {actor.os_user} is not one of them"
            )
        return _info(row)

    def add(self, actor: Actor, name: str, role: str = "user") -> UserInfo:
        parsed = parse_installation_role(role)
        name = name.strip()
        if not name or len(name) > 128 or any(c.isspace() for c in name):
            raise InvalidInput(f"invalid user name {name!r}")
        try:
            with self._transaction() as connection:
                user_row_admin = user_row(connection, actor.user)
                if user_row_admin.role != InstallationRole.ADMIN:
                    raise AccessDenied(f"{actor.user} is not an admin; only admins add users")
                if connection.execute(select(users.c.id).where(users.c.name == name)).first():
                    raise InvalidInput(f"user {name} already exists")
                connection.execute(
                    insert(users).values(
                        name=name, role=parsed.value, created_at=utcnow(), created_by=actor.user
                    )
                )
                self._audit(connection, actor, "user.add", target=name, details={"role": role})
                return _info(connection.execute(select(users).where(users.c.name == name)).one())
        except AccessDenied as denied:
            self._record_refusal(actor, "user.add", None, denied)
            raise

    def list(self, actor: Actor) -> list[UserInfo]:
        with self._transaction() as connection:
            user_row(connection, actor.user)  # any registered user may see who exists
            rows = connection.execute(select(users).order_by(users.c.name)).all()
            self._audit(connection, actor, "user.list")
        return [_info(row) for row in rows]


def _info(row: Row[Any]) -> UserInfo:
    return UserInfo(
        name=row.name, role=row.role, created_at=row.created_at, created_by=row.created_by
    )
