"""File formats at the edges: TMX, units (x-* props), reading articles and atomic writes."""
