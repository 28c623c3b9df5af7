"""Model backends: torch (transformers), CTranslate2, and the constrained DBA decoder."""
