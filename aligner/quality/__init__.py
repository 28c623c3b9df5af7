"""Quality: per-unit QA checks and corpus scores (BLEU, chrF, TER, term accuracy)."""
