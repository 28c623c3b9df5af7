"""Plain data classes passed between the pipeline stages.

Data flows one way: files -> Segment -> Draft -> Unit -> TMX.  Every stage
module imports its input and output types from here and nothing from the
stages after it, so each stage can be tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEGMENT_KINDS = ("sentence", "heading", "meta", "reference", "boilerplate")


@dataclass(frozen=True)
class Segment:
    """A span of a source document: ``text == source[start:end]``."""

    text: str
    start: int
    end: int
    kind: str = "sentence"
    paragraph: int = 0
    index: int = 0
    doc: str = ""

    @property
    def translatable(self) -> bool:
        """Boilerplate is kept for the report but never sent to the model."""
        return self.kind != "boilerplate"


@dataclass(frozen=True)
class Term:
    """One glossary concept: Indonesian trigger forms and the one English target."""

    id: str
    sources: tuple[str, ...]
    target: str
    forbidden: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class TermHit:
    """A glossary term found in a source text at ``[start, end)``."""

    term: Term
    start: int
    end: int
    matched: str


@dataclass(frozen=True)
class Draft:
    """A machine translation of one source text.

    ``missing`` lists the terms hit in the source whose target is absent from
    ``text``; ``forbidden`` lists forbidden forms that nevertheless appear.
    ``flags`` carries notes a reviewer must see (split, degenerate, ...).
    ``pieces`` is how many pieces the source was split into to fit the model;
    ``redecoded`` says the draft was re-decoded with a repetition guard and
    ``degenerate`` why it is still degenerate (``""``: it is not).
    """

    source: str
    text: str
    hits: tuple[TermHit, ...] = ()
    missing: tuple[Term, ...] = ()
    forbidden: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    pieces: int = 1
    redecoded: bool = False
    degenerate: str = ""


@dataclass(frozen=True)
class Unit:
    """One TMX translation unit: source, target, ``x-*`` props and notes."""

    source: str
    target: str
    props: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    tuid: str = ""
    changedate: str = ""
    changeid: str = ""
    # When and by whom the unit was first made (TMX ``creationdate``/``creationid``).  Not
    # compared: the same text with the same props is the same unit whenever it was stamped.
    creationdate: str = field(default="", compare=False)
    creationid: str = field(default="", compare=False)

    def prop(self, name: str, default: str = "") -> str:
        """First value of prop ``name`` (props may repeat in TMX)."""
        for key, value in self.props:
            if key == name:
                return value
        return default


@dataclass(frozen=True)
class Bead:
    """An alignment bead: source and target sentence indices, and its score."""

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float = 0.0

    @property
    def kind(self) -> str:
        return f"{len(self.src)}-{len(self.tgt)}"


@dataclass
class FileReport:
    """What happened to one input file in a batch (serialised to report.json)."""

    path: str
    output: str = ""
    status: str = "ok"
    error: str = ""
    segments: int = 0
    translated: int = 0
    boilerplate: list[str] = field(default_factory=list)
    seconds: float = 0.0
    terms_hit: dict[str, int] = field(default_factory=dict)
    terms_missed: dict[str, int] = field(default_factory=dict)
    split: int = 0
    redecoded: int = 0
    degenerate: int = 0
    reused: bool = False
    # Segments served by the translation cache, ct2 drafts re-decoded with the
    # constrained torch decoder (they missed a term or used a forbidden form),
    # and seconds spent inside the model(s).
    cache_hits: int = 0
    glossary_redecoded: int = 0
    model_seconds: float = 0.0
    # How a re-run merged with the TMX already there (aligner.batch.merge):
    # kept / redrafted / new / orphaned / dropped_drafts / discarded units.
    merged: dict[str, int] = field(default_factory=dict)
    # Segments the translation memory filled (exact), offered fuzzy matches for, or had nothing for.
    tm_exact: int = 0
    tm_fuzzy: int = 0
    tm_none: int = 0
