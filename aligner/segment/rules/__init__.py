"""Segmentation rule files (data): common.txt plus one file per language."""
