"""caselens: an open investigation platform for police and financial-intelligence units."""

__version__ = "0.1.0"
