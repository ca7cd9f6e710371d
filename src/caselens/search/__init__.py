"""Full-text search of a case: one query language, SQLite FTS5 or PostgreSQL full text."""
