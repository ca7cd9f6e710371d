"""The services of one installation, built from one settings object."""

from __future__ import annotations

from caselens.config import Settings
from caselens.runtime import Runtime
from caselens.services.alerts import AlertService
from caselens.services.aml_models import AmlModelService
from caselens.services.audit import AuditService
from caselens.services.cases import CaseService
from caselens.services.graph import GraphService
from caselens.services.hashsets import HashSetService
from caselens.services.hits import HitService
from caselens.services.ingest import IngestService
from caselens.services.items import ItemService
from caselens.services.mail import MailService
from caselens.services.names import NameService
from caselens.services.resolution import ResolutionService
from caselens.services.search import SearchService
from caselens.services.selectors import SelectorService
from caselens.services.timeline import TimelineService
from caselens.services.tracing import TraceService
from caselens.services.transactions import TransactionService
from caselens.services.transcripts import TranscriptService
from caselens.services.users import UserService
from caselens.services.verify import VerifyService


class Caselens:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime = Runtime(settings)
        self.users = UserService(self.runtime)
        self.cases = CaseService(self.runtime)
        self.items = ItemService(self.runtime)
        self.ingest = IngestService(self.runtime)
        self.mail = MailService(self.runtime)
        self.selectors = SelectorService(self.runtime)
        self.search = SearchService(self.runtime)
        self.names = NameService(self.runtime)
        self.verify = VerifyService(self.runtime)
        self.audit = AuditService(self.runtime)
        self.hashsets = HashSetService(self.runtime)
        self.transcripts = TranscriptService(self.runtime)
        self.timeline = TimelineService(self.runtime)
        self.graph = GraphService(self.runtime)
        self.hits = HitService(self.runtime)
        self.resolution = ResolutionService(self.runtime)
        self.transactions = TransactionService(self.runtime)
        self.tracing = TraceService(self.runtime)
        self.alerts = AlertService(self.runtime)
        self.aml_models = AmlModelService(self.runtime)

    def close(self) -> None:
        self.runtime.dispose()
