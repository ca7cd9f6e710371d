"""E-mail analysis beyond ingest: conversation threads."""
