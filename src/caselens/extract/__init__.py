"""Analyzers that find selectors (identifiers, names, languages) in an item's text."""
