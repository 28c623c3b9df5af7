"""The domain termbase: TSV document, matching, checks, exchange formats, suggestions."""

from aligner.glossary.document import Document, GlossaryError
from aligner.glossary.termbase import Termbase, check_draft

__all__ = ["Document", "GlossaryError", "Termbase", "check_draft"]
