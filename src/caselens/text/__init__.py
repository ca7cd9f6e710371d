"""Text helpers shared by ingestors: decoding bytes of unknown charset, HTML to text."""
