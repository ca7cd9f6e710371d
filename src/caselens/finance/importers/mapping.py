"""The YAML mapping of a generic CSV or XLSX transactions file: which column is what.

See ``docs/examples/transactions-mapping.yaml``. Unknown keys are refused, so a typo in a
mapping is an error, not a silently missing column.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from caselens.errors import InvalidInput
from caselens.finance.importers.times import check_timezone
from caselens.finance.importers.values import is_currency


class Columns(BaseModel):
    """Header names of the source's columns, one per field of the columnar layout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payer: str
    payee: str
    amount: str
    time: str
    currency: str | None = None
    reference: str | None = None
    channel: str | None = None
    payer_name: str | None = None
    payee_name: str | None = None
    payer_bank: str | None = None
    payee_bank: str | None = None
    tx_id: str | None = None
    amount_received: str | None = None
    currency_received: str | None = None

    def used(self) -> dict[str, str]:
        return {name: value for name, value in self.model_dump().items() if value is not None}


class Mapping(BaseModel):
    """How to read one kind of export: columns, separators, time format and zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: Columns
    currency: str | None = Field(None, description="ISO 4217 code when no currency column")
    time_format: str = Field("%Y-%m-%d %H:%M:%S", description="strptime format of times")
    timezone: str = Field("UTC", description="IANA zone of times written without an offset")
    decimal: str = Field(".", min_length=1, max_length=1)
    thousands: str | None = Field(None, min_length=1, max_length=1)
    delimiter: str = Field(",", min_length=1, max_length=1)
    quote: str = Field('"', min_length=1, max_length=1)
    encoding: str = "utf-8"
    skip_rows: int = Field(0, ge=0, description="lines (or sheet rows) before the header")
    sheet: str | None = Field(None, description="XLSX: the sheet to read (default: first)")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is not None and not is_currency(value.upper()):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value.upper() if value else None

    @model_validator(mode="after")
    def _currency_given(self) -> Mapping:
        if self.columns.currency is None and self.currency is None:
            raise ValueError("give columns.currency or a fixed currency")
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError("thousands and decimal separators must differ")
        return self


def load_mapping(path: Path) -> tuple[Mapping, dict[str, Any]]:
    """The mapping of a YAML file, and how it is recorded with the dataset."""
    try:
        raw = path.read_bytes()
        document = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError) as err:
        raise InvalidInput(f"{path}: not a readable YAML mapping: {err}") from err
    if not isinstance(document, dict):
        raise InvalidInput(f"{path}: a mapping file is a YAML mapping of keys to values")
    try:
        mapping = Mapping.model_validate(document)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'mapping'}: {error['msg']}"
            for error in err.errors()
        )
        raise InvalidInput(f"{path}: {problems}") from err
    record = {
        "mapping_sha256": hashlib.sha256(raw).hexdigest(),
        "mapping_name": path.name,
        "mapping": mapping.model_dump(),
    }
    return mapping, record
