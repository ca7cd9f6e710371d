"""Phones and chat apps: databases, exports, forensic reports and call detail records."""
