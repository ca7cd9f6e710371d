"""One settings object, built once at the edge and passed in; never mutated as a module global."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


class Settings(BaseSettings):
    """Everything configurable, read from ``CASELENS_*`` environment variables or passed in."""

    model_config = SettingsConfigDict(env_prefix="CASELENS_", extra="ignore")

    home: Path = Field(default=Path("caselens-data"), description="data directory")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite file in the data directory when unset"
    )
    purpose: str | None = Field(default=None, description="purpose of access for this session")
    workers: int = Field(default_factory=default_workers, ge=1, le=256)
    item_timeout: float = Field(default=120.0, gt=0, description="seconds one parser may run")
    item_memory_mb: int = Field(
        default=4096, ge=64, description="address space a parser may add to its worker, MiB"
    )
    batch_size: int = Field(default=2000, ge=1, description="items per database transaction")
    batch_seconds: float = Field(default=5.0, gt=0, description="longest wait before a commit")
    kill_grace: float = Field(
        default=10.0, ge=0, description="seconds past item_timeout before a parser is killed"
    )
    ingestor_plugins: list[str] = Field(
        default_factory=list, description="extra ingestors as 'module:Class' import paths"
    )
    ingestors: list[str] = Field(
        default_factory=list,
        description="run only these ingestors, by name (all when empty); the fallback always",
    )
    analyze: bool = Field(
        default=True,
        description="find identifiers (phones, e-mails, IBANs...) and the language in the text",
    )
    names: bool = Field(
        default=True,
        description="find names of people, organisations and places (needs caselens[names])",
    )
    index_text: bool = Field(
        default=True,
        description="index items for search while ingesting (caselens reindex builds it later)",
    )
    ocr: bool = Field(
        default=True,
        description="read text in images and scanned PDF pages (needs caselens[ocr] and tesseract)",
    )
    ocr_languages: list[str] = Field(
        default_factory=lambda: ["eng"],
        description='tesseract language packs for OCR, e.g. ["eng", "deu"]',
    )
    transcribe: bool = Field(
        default=True,
        description="transcribe recorded speech (needs caselens[transcribe])",
    )
    cdr_mappings: list[Path] = Field(
        default_factory=list,
        description="YAML column mappings for operators' call detail records (CSV)",
    )
    aml_detectors: dict[str, dict[str, float | int | str]] = Field(
        default_factory=dict,
        description='typology detector parameters, e.g. {"fan_in": {"min_counterparties": 6}}',
    )
    max_text_chars: int = Field(default=20_000_000, ge=1000, description="text kept per item")
    max_depth: int = Field(default=16, ge=1, le=64, description="containers inside containers")
    max_archive_members: int = Field(
        default=100_000, ge=1, description="child items one archive or message may yield"
    )
    max_expanded_mb: int = Field(
        default=65536, ge=1, description="total size of one item's children, MiB"
    )
    max_expansion_ratio: float = Field(
        default=100.0, gt=1, description="children's total size over their container's size"
    )

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_home / 'caselens.db'}"

    @property
    def blob_root(self) -> Path:
        return self.resolved_home / "blobs"

    @property
    def keys_dir(self) -> Path:
        return self.resolved_home / "keys"

    @property
    def work_dir(self) -> Path:
        """Scratch folders of parsers that need files (removed after each item)."""
        return self.resolved_home / "work"

    @property
    def facet_cache_dir(self) -> Path:
        """Columnar copies of each case's facet fields (derived; safe to delete)."""
        return self.resolved_home / "cache" / "facets"

    @property
    def locks_dir(self) -> Path:
        return self.resolved_home / "locks"
