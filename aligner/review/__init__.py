"""Local review web app: a side-by-side table of a TMX file, edited and approved in the browser."""

from aligner.review.session import EditError, ReviewSession

__all__ = ["EditError", "ReviewSession"]
