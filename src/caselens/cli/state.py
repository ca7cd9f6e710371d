"""What the global options decide, shared by every command through typer's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import typer

from caselens.actor import Actor
from caselens.config import Settings
from caselens.services import Caselens


@dataclass
class CliState:
    home: Path | None = None
    asserted_user: str | None = None
    purpose: str | None = None
    _app: Caselens | None = field(default=None, repr=False)

    @cached_property
    def settings(self) -> Settings:
        overrides = {"home": self.home} if self.home else {}
        return Settings(**overrides)  # type: ignore[arg-type]

    @property
    def app(self) -> Caselens:
        if self._app is None:
            self._app = Caselens(self.settings)
        return self._app

    @property
    def actor(self) -> Actor:
        # The user is asserted on the command line (authentication comes with the API);
        # the OS account that ran the command is recorded beside it.
        purpose = self.purpose or self.settings.purpose
        return Actor.from_cli(self.asserted_user, purpose)


def state(ctx: typer.Context) -> CliState:
    found = ctx.find_object(CliState)
    if found is None:
        found = ctx.ensure_object(CliState)
    return found
