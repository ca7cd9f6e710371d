"""Tables of the case database (SQLAlchemy Core).

Migrations in ``migrations/versions`` are the authority for the deployed schema;
a test checks that this module and the migrations agree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from caselens.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    # Installation role: "admin", "auditor" or "user"; case roles live in memberships.
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("reference", String(128), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("jurisdiction", String(128)),
    Column("legal_basis", Text),
    Column("default_purpose", Text),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("closed_at", UTCDateTime),
)

memberships = Table(
    "memberships",
    metadata,
    Column("case_id", String(32), ForeignKey("cases.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("added_by", String(128), nullable=False),
)

exhibits = Table(
    "exhibits",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("description", Text),
    Column("seized_by", String(256)),
    Column("seized_at", UTCDateTime),
    Column("seized_from", Text),
    Column("notes", Text),
    Column("created_at", UTCDateTime, nullable=False),
    # IANA zone of the device's clock, for sources that store local times without one.
    Column("timezone", String(64)),
    UniqueConstraint("case_id", "reference"),
)

# One blob per distinct content, shared by every item that holds it.
blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("sha1", String(40), nullable=False),
    Column("md5", String(32), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# One occurrence of a blob in a case. The id is derived from the case and the natural key
# (exhibit, parent, path), so the same source ingested twice is the same item.
items = Table(
    "items",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("exhibit_id", String(32), ForeignKey("exhibits.id")),
    Column("parent_id", String(32), ForeignKey("items.id")),
    Column("depth", Integer, nullable=False, default=0),
    # Display form of the path (undecodable bytes escaped) and the exact bytes.
    Column("path", Text, nullable=False),
    Column("path_bytes", LargeBinary, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # file, symlink, fifo, socket, device, directory
    Column("sha256", String(64), ForeignKey("blobs.sha256")),
    Column("sha1", String(40)),
    Column("md5", String(32)),
    Column("size", BigInteger),
    Column("mime_type", String(255)),
    Column("format", String(64)),  # ingestor that handled the item
    Column("format_version", String(32)),
    # pending | ingested | unsupported | encrypted | failed | skipped
    Column("state", String(16), nullable=False),
    Column("error", Text),
    Column("warnings", JSON),
    Column("source_metadata", JSON),  # times, mode, owner as found at acquisition
    Column("generation", Integer, nullable=False, default=0),  # current result generation
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime),
    Index("ix_items_case_state", "case_id", "state"),
    Index("ix_items_case_sha256", "case_id", "sha256"),
    Index("ix_items_parent", "parent_id"),
)

# Extracted text, one row per page (page 1 for unpaged text). Superseded rows are kept.
item_texts = Table(
    "item_texts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("item_id", String(32), ForeignKey("items.id"), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("page", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("superseded", Boolean, nullable=False, default=False),
    Index("ix_item_texts_item", "item_id", "generation", "page"),
)

# FollowTheMoney entity fragments, each from one item and one generation of its results.
entities = Table(
    "entities",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("schema", String(64), nullable=False),
    Column("item_id", String(32), ForeignKey("items.id"), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("properties", JSON, nullable=False),
    Column("superseded", Boolean, nullable=False, default=False),
    # What FollowTheMoney has no property for: where in the source the record was
    # (table and row), the source's time zone and whether it was assumed, direction,
    # read and deleted flags.
    Column("context", JSON),
    Index("ix_entities_case_entity", "case_id", "entity_id"),
    Index("ix_entities_item", "item_id"),
)

# Identifiers found in an item's text: the normalized value a selector query matches, the
# raw text, where it is (page, character offsets) and which extractor version found it.
mentions = Table(
    "mentions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("item_id", String(32), ForeignKey("items.id"), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("page", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("extractor", String(32), nullable=False),
    Column("extractor_version", String(16), nullable=False),
    Column("superseded", Boolean, nullable=False, default=False),
    Index("ix_mentions_case_kind_value", "case_id", "kind", "value"),
    Index("ix_mentions_item", "item_id"),
)

# The search index, derived from the store and rebuildable from it: one document per
# item (its current generation). The words themselves live in the engine's own
# structures, which SQLAlchemy does not model: on SQLite an FTS5 table per case,
# ``search_fts_<case id>`` (rowid = search_docs.id), made when the case's first document
# is indexed; on PostgreSQL a ``tsv`` tsvector column with a GIN index (migration 0003), or a
# RUM index where the extension can be had (0011).
# ENGINE_OBJECTS names them (and PostgreSQL's newest-first index, migration 0010) for
# schema comparisons.
search_docs = Table(
    "search_docs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("item_id", String(32), nullable=False, unique=True),
    Column("generation", Integer, nullable=False),
    Column("doc_type", String(64), nullable=False),
    Column("title", Text),
    Column("sender", Text),
    Column("date", String(19)),  # ISO 8601 UTC to the second: sorts and slices alike everywhere
    Column("lang", String(8)),
    Column("kinds", Integer, nullable=False, default=0),  # bits of search.document.KIND_BITS
    Column("truncated", Boolean, nullable=False, default=False),  # index holds a prefix only
    Index("ix_search_docs_case_date", "case_id", "date"),
)

# Which identifier kinds a document mentions (facet counts, has:KIND).
search_kinds = Table(
    "search_kinds",
    metadata,
    Column("doc_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Index("ix_search_kinds_kind", "kind", "doc_id"),
)

# The normalized identifiers a document mentions (selector queries: phone:+44...).
search_selectors = Table(
    "search_selectors",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", Text, primary_key=True),
    Column("doc_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Index("ix_search_selectors_doc", "doc_id"),
)

# A random token per case, replaced in the same transaction as every change to the
# case's index: a copy of the index made under one token is current while it holds.
# Random, not a counter, so a rolled-back change cannot be mistaken for a later one.
search_state = Table(
    "search_state",
    metadata,
    Column("case_id", String(32), ForeignKey("cases.id"), primary_key=True),
    Column("token", String(32), nullable=False),
    # The highest document id ever given to the case: ids are never reused (0012).
    Column("high_id", BigInteger, nullable=False, server_default="0"),
)

ENGINE_OBJECTS = frozenset(
    {"search_fts", "tsv", "ix_search_docs_tsv", "ix_search_docs_rum", "ix_search_docs_case_newest"}
)

# Append-only hash-chained logs: custody events and audit records. ``record`` is the exact
# canonical JSON (RFC 8785) that was hashed; the other columns are copies for querying and
# are checked against it by verify.
log_records = Table(
    "log_records",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("chain", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("case_id", String(32)),
    Column("item_id", String(32)),
    Column("action", String(64), nullable=False),
    Column("actor", String(128)),
    Column("at", UTCDateTime, nullable=False),
    Column("record", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("chain", "seq"),
    Index("ix_log_records_item", "item_id"),
)

# The head of each chain, kept apart from its records and signed with the installation key.
chain_heads = Table(
    "chain_heads",
    metadata,
    Column("chain", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("key_id", String(64)),
    Column("signature", String(128)),
)

# Transcripts of recorded statements: machine output of one model version, per item and
# generation (a reprocessed item gets a new one), with a review state a person sets.
transcripts = Table(
    "transcripts",
    metadata,
    Column("item_id", String(32), ForeignKey("items.id"), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("model", String(64), nullable=False),
    Column("model_version", Text, nullable=False),
    Column("language", String(16)),
    Column("language_probability", Float),
    Column("duration", Float),  # seconds of the recording
    Column("complete", Boolean, nullable=False, default=True),  # False: cut at the time limit
    # machine | reviewed | corrected | rejected
    Column("review_state", String(16), nullable=False, default="machine"),
    Column("reviewed_by", String(128)),
    Column("reviewed_at", UTCDateTime),
    Column("review_note", Text),
)

# One row per segment; the item's text page ``number`` holds the same words.
transcript_segments = Table(
    "transcript_segments",
    metadata,
    Column("item_id", String(32), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("start", Float, nullable=False),  # seconds from the start of the recording
    Column("end", Float, nullable=False),
    Column("text", Text, nullable=False),
    Column("confidence", Float),  # 0..1
    ForeignKeyConstraint(
        ["item_id", "generation"], ["transcripts.item_id", "transcripts.generation"]
    ),
)

# Hash lists, imported once for the whole installation and used by every case: known-good
# lists (operating-system and application files, to hide) and alert lists (material to
# flag). ``problems`` keeps the first bad lines of the list file: [[line, reason], ...].
hash_sets = Table(
    "hash_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # known-good | alert
    Column("format", String(16), nullable=False),  # the parser that read the list
    Column("source_name", Text, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("pdq_threshold", Integer),  # largest PDQ distance in bits that still matches
    Column("entries", BigInteger, nullable=False),  # distinct hashes stored
    Column("lines", BigInteger, nullable=False),
    Column("bad_lines", BigInteger, nullable=False),
    Column("counts", JSON, nullable=False),  # hashes read per algorithm
    Column("problems", JSON, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("imported_by", String(128), nullable=False),
)

# One hash of a list. The key starts with (algorithm, value), the lookup of matching, and
# ends with the set, so a hash listed twice in one list is stored once.
hash_set_entries = Table(
    "hash_set_entries",
    metadata,
    Column("algorithm", String(8), primary_key=True),  # md5 | sha1 | sha256 | pdq
    Column("value", String(64), primary_key=True),  # lower-case hex
    Column("set_id", Integer, ForeignKey("hash_sets.id"), primary_key=True),
    Column("quality", Integer),  # PDQ quality 0-100, when the list gives it
    Column("label", Text),  # file name (NSRL, sha256sum) or the list's own label
    # On SQLite the key is the table itself (no second B-tree): imports run twice as fast.
    sqlite_with_rowid=False,
)

# Items of a case that a list matched: ``value`` is the list's hash, ``item_value`` the
# item's (they differ for PDQ, ``distance`` bits apart; exact hashes have no distance).
hash_matches = Table(
    "hash_matches",
    metadata,
    Column("case_id", String(32), ForeignKey("cases.id"), primary_key=True),
    Column("item_id", String(32), ForeignKey("items.id"), primary_key=True),
    Column("set_id", Integer, ForeignKey("hash_sets.id"), primary_key=True),
    Column("algorithm", String(8), primary_key=True),
    Column("value", String(64), nullable=False),
    Column("item_value", String(64), nullable=False),
    Column("distance", Integer),
    Column("matched_at", UTCDateTime, nullable=False),
)

# Dated events imported from other tools' timelines (plaso's json_line output), each tied
# to the evidence item that holds the timeline file and to its line in that file.
timeline_events = Table(
    "timeline_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("item_id", String(32), ForeignKey("items.id"), nullable=False),
    Column("line", BigInteger, nullable=False),  # 1-based line of the event in the item
    Column("time", UTCDateTime, nullable=False),
    Column("timestamp_desc", Text),  # what the time is: "Content Modification Time"...
    Column("source", String(32), nullable=False),  # the tool: "plaso"
    Column("parser", Text),  # the tool's parser chain: "winreg/msie_zone"
    Column("data_type", Text),
    Column("message", Text),
    Column("display_name", Text),
    Column("attributes", JSON, nullable=False),  # the rest of the record as the tool wrote it
    Index("ix_timeline_events_case_time", "case_id", "time"),
    Index("ix_timeline_events_item", "item_id"),
)

# The installation-wide index of normalized selectors (phone, e-mail, IBAN, wallet, IMEI,
# card, name fingerprints) and the cases they were seen in, kept as items are ingested.
# It is what cross-case hits are found from, and it never leaves the service layer: a
# case's member learns of another case only through ``cross_hits`` and its notice.
selector_index = Table(
    "selector_index",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", Text, primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), primary_key=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Index("ix_selector_index_case", "case_id", "kind", "value"),
    sqlite_with_rowid=False,
)

# One selector shared by two cases, stored once per side (case_id is the side it is
# shown to). ``announced`` is set when both cases' audit logs hold the hit, ``listed_at``
# when a member of ``case_id`` first listed it (until then it is new in ``status``).
cross_hits = Table(
    "cross_hits",
    metadata,
    Column("case_id", String(32), ForeignKey("cases.id"), primary_key=True),
    Column("other_case_id", String(32), ForeignKey("cases.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("value", Text, primary_key=True),
    Column("found_at", UTCDateTime, nullable=False),
    Column("announced", Boolean, nullable=False, default=False),
    Column("listed_at", UTCDateTime),
    Index("ix_cross_hits_announced", "announced"),
)

# Analysts' judgements of candidate pairs of entities (identity resolution). Append-only:
# a new judgement of a pair supersedes the earlier one, which stays as history; the pair
# is stored with the smaller entity id first.
judgements = Table(
    "judgements",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("left_id", String(64), nullable=False),
    Column("right_id", String(64), nullable=False),
    Column("judgement", String(16), nullable=False),  # same | different | unsure
    Column("score", Float),  # the candidate's score when it was judged
    Column("judged_by", String(128), nullable=False),
    Column("judged_at", UTCDateTime, nullable=False),
    Column("note", Text),
    Index("ix_judgements_case_pair", "case_id", "left_id", "right_id"),
)

# Bulk transactions imported into a case: the source file is an item like any other, and
# its rows in the canonical columnar layout (caselens.finance.transactions) are a Parquet
# blob derived from it in the evidence store, which DuckDB and Spark read in place.
tx_datasets = Table(
    "tx_datasets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("item_id", String(32), ForeignKey("items.id"), nullable=False),
    Column("parquet_sha256", String(64), ForeignKey("blobs.sha256"), nullable=False),
    Column("format", String(16), nullable=False),  # csv | amlworld | mt940 | camt053 | ...
    Column("rows", BigInteger, nullable=False),
    Column("bad_rows", BigInteger, nullable=False),
    Column("first_time", UTCDateTime),
    Column("last_time", UTCDateTime),
    Column("report", JSON, nullable=False),  # refused rows with line and reason, warnings
    Column("imported_by", String(128), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    UniqueConstraint("case_id", "item_id", "format"),
    Index("ix_tx_datasets_case", "case_id"),
)

# Alerts of the typology detectors. ``fingerprint`` (detector, accounts, transactions)
# makes a re-run of detection add only what is new; the review state is set by analysts
# and each change is in the case's audit log.
alerts = Table(
    "alerts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("case_id", String(32), ForeignKey("cases.id"), nullable=False),
    Column("dataset_id", String(32), ForeignKey("tx_datasets.id"), nullable=False),
    Column("typology", String(32), nullable=False),
    Column("detector_version", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("score", Float, nullable=False),
    Column("accounts", JSON, nullable=False),  # account keys, in the detector's order
    Column("transactions", JSON, nullable=False),  # ``row`` numbers in the dataset
    Column("window_start", UTCDateTime, nullable=False),
    Column("window_end", UTCDateTime, nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("state", String(16), nullable=False),  # new | confirmed | dismissed
    Column("reviewed_by", String(128)),
    Column("reviewed_at", UTCDateTime),
    Column("review_note", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("case_id", "dataset_id", "fingerprint"),
    Index("ix_alerts_case_state", "case_id", "state"),
)
