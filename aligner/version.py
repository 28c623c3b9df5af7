"""The package version (one home: the TMX header, signatures and cache keys read it)."""

__version__ = "0.1.0"
