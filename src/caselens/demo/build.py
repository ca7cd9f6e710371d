"""Build the demo case from the evidence files shipped in the package."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from caselens.actor import Actor
from caselens.errors import InvalidInput
from caselens.ingest.pipeline import IngestSummary
from caselens.services import Caselens
from caselens.services.ingest import Acquisition

EVIDENCE = Path(__file__).resolve().parent / "evidence"
REFERENCE = "OP-TIDEWATER"
STATEMENT = EVIDENCE / "bank" / "statement-mule-account.camt053.xml"
PURPOSE = "Operation Tidewater: investment fraud investigation (demo)"
# A second case of another force, led by someone else, that shares the mule account and
# the handler's number with Tidewater: the demo's cross-case hit.
OTHER_REFERENCE = "OP-KESTREL"
OTHER_LEAD = "fiona.kerr"
OTHER_PURPOSE = "Operation Kestrel: money-mule recruitment enquiry (demo)"


@dataclass(frozen=True, slots=True)
class DemoExhibit:
    folder: str
    reference: str
    description: str
    seized_from: str
    timezone: str | None = None  # the device's clock, for local times without a zone


EXHIBITS = (
    DemoExhibit("mail", "TW/1", "Mailbox export of victim M. Ellison", "Margaret Ellison"),
    DemoExhibit(
        "chat",
        "TW/2",
        "WhatsApp chat export from the victim's phone",
        "Margaret Ellison",
        "Europe/London",
    ),
    DemoExhibit("documents", "TW/3", "Documents provided by victims and banks", "various"),
    DemoExhibit("bank", "TW/4", "Statement of the suspected mule account", "Northgate Mutual Bank"),
    DemoExhibit(
        "phone",
        "TW/5",
        "Victim's phone: a photo she took of the meeting place and her recorded statement",
        "Margaret Ellison",
        "Europe/London",
    ),
)


def build_demo(app: Caselens, actor: Actor) -> dict[str, IngestSummary]:
    """Create the demo case if needed and ingest its exhibits (idempotent)."""
    app.users.init(actor)
    # When the case exists already, the ingest below adds only what is missing.
    with contextlib.suppress(InvalidInput):
        app.cases.create(
            actor,
            REFERENCE,
            "Operation Tidewater: BlueHarbor Capital investment fraud",
            jurisdiction="GB-ENG",
            legal_basis="Police and Criminal Evidence Act 1984 (fictional demo)",
            default_purpose=PURPOSE,
        )
    summaries = {}
    seized_at = datetime(2026, 3, 18, 10, 30, tzinfo=UTC)
    for exhibit in EXHIBITS:
        acquisition = Acquisition(
            exhibit=exhibit.reference,
            description=exhibit.description,
            seized_by="DC Amira Sandhu",
            seized_at=seized_at,
            seized_from=exhibit.seized_from,
            notes="fictional demo evidence shipped with caselens",
            timezone=exhibit.timezone,
        )
        summaries[exhibit.reference] = app.ingest.ingest(
            actor, REFERENCE, [str(EVIDENCE / exhibit.folder)], acquisition
        )
    summaries["KS/1"] = _build_other_case(app, actor, seized_at)
    # The mule account's statement, as the bank's camt.053 export, is also read as
    # transactions, and the typology detectors run over it (re-runs add nothing).
    app.transactions.import_file(actor, REFERENCE, STATEMENT, "camt053", exhibit="TW/4")
    app.alerts.detect(actor, REFERENCE)
    return summaries


def _build_other_case(app: Caselens, admin: Actor, seized_at: datetime) -> IngestSummary:
    """Operation Kestrel, created and ingested by its own lead, not by the demo's user."""
    lead = Actor(OTHER_LEAD, OTHER_PURPOSE, admin.os_user)
    with contextlib.suppress(InvalidInput):
        app.users.add(admin, OTHER_LEAD)
    with contextlib.suppress(InvalidInput):
        app.cases.create(
            lead,
            OTHER_REFERENCE,
            "Operation Kestrel: student money-mule recruitment",
            jurisdiction="GB-ENG",
            legal_basis="Proceeds of Crime Act 2002 (fictional demo)",
            default_purpose=OTHER_PURPOSE,
        )
    acquisition = Acquisition(
        exhibit="KS/1",
        description="Intelligence report and interview notes",
        seized_by="DS Fiona Kerr",
        seized_at=seized_at,
        seized_from="Northern Coast Police (fictional)",
        notes="fictional demo evidence shipped with caselens",
    )
    return app.ingest.ingest(lead, OTHER_REFERENCE, [str(EVIDENCE / "kestrel")], acquisition)
