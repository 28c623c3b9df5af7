"""aligner: Indonesian -> English translation and alignment toolkit."""

__version__ = "0.1.0"
