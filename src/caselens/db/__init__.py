"""The case database: schema, engine, migrations."""
