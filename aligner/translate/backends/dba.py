"""Beam search with hard lexical constraints for MarianMT (Dynamic Beam Allocation).

Post & Vilar (2018), vectorised over the batch as in Hu et al. (2019): every
candidate continuation is put in a *bank* by how many constraint tokens it has
met, and the beam is filled round-robin over the banks (best of the highest
bank, best of the next, ..., then the second best of each), so hypotheses that
honour constraints survive next to fluent ones.  A hypothesis may end only
when all its constraints are met.  Two rules keep the guarantee:

* terms win over the repetition guard: a token that advances an unmet
  constraint is never banned by ``no_repeat_ngram_size``;
* a hypothesis that can no longer fit its missing constraint tokens before the
  length limit is kept only when no other can, so a constraint is left unmet
  only when its tokens do not fit at all.  Then the best partial hypothesis is
  forced out at the limit and the caller sees which constraints are missing.

The loop is ours (encoder once, decoder step by step with its KV cache), but
logits processors, candidate selection, length penalty and early stopping
follow ``GenerationMixin._beam_search`` of transformers 5 step for step, so
that with no constraints the output is the one ``generate(num_beams=k)`` gives.
Only public transformers API is used: the generation config's attributes, the
public logits processor classes and ``EncoderDecoderCache``/``DynamicCache``.

The parts: :mod:`.constraints` (phrases, constraint tracking, bank allocation),
:class:`Scorer` (the model and its logits processors), :class:`Candidates`
(one step's continuations), :class:`Beams` (running hypotheses),
:class:`FinishedPool` (finished hypotheses) and :func:`beam_search` (the loop).
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import (
    DynamicCache,
    EncoderDecoderCache,
    EncoderNoRepeatNGramLogitsProcessor,
    EncoderRepetitionPenaltyLogitsProcessor,
    ForcedBOSTokenLogitsProcessor,
    ForcedEOSTokenLogitsProcessor,
    GenerationConfig,
    InfNanRemoveLogitsProcessor,
    LogitNormalization,
    LogitsProcessorList,
    MinLengthLogitsProcessor,
    NoBadWordsLogitsProcessor,
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    SuppressTokensAtBeginLogitsProcessor,
    SuppressTokensLogitsProcessor,
)

from aligner.text import occurs
from aligner.translate.backends.constraints import (
    ConstraintState,
    ConstraintTracker,
    ForbiddenTracker,
    Phrase,
    WordTable,
    round_robin_order,
    take,
)
from aligner.types import TermHit

__all__ = ["Hypothesis", "Phrase", "TermEncoder", "WordTable", "beam_search", "generation_settings", "translate_batch"]

_NEG = -1.0e9
# Unmet constraints outrank any score difference when finished hypotheses are compared.
_UNMET_PENALTY = 1.0e5
_MARKER = "\u2581"  # SentencePiece word-start marker
_WORD = re.compile(r"\w")

# generate's values for settings neither the caller nor the model's generation config sets
# (GenerationConfig leaves them None and fills them in inside generate).
GENERATE_DEFAULTS: dict[str, Any] = {
    "max_length": 20,
    "min_length": 0,
    "early_stopping": False,
    "length_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0,
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "remove_invalid_values": False,
}
# Settings that change beam search in ways this decoder does not reproduce.
_UNSUPPORTED = {
    "sequence_bias": None,
    "guidance_scale": (None, 1, 1.0),
    "exponential_decay_length_penalty": None,
    "num_beam_groups": (None, 1),
    "diversity_penalty": (None, 0, 0.0),
    "num_return_sequences": (None, 1),
}


@dataclass(frozen=True)
class Hypothesis:
    """The best finished hypothesis of one input: generated ids (start token excluded)."""

    tokens: tuple[int, ...]
    score: float
    met: tuple[bool, ...]


def generation_settings(model: Any, num_beams: int, **kwargs: Any) -> GenerationConfig:
    """The generation config ``generate`` would build from the model's defaults and ``kwargs``.

    ``max_new_tokens``/``min_new_tokens`` become ``max_length``/``min_length``
    (the decoder's prompt is its one start token), as in ``generate``.
    """
    config = copy.deepcopy(model.generation_config)
    default_max_length = kwargs.get("max_length") is None and config.max_length is None
    unknown = config.update(num_beams=num_beams, do_sample=False, **kwargs)
    if unknown:
        raise TypeError(f"unknown generation options: {', '.join(sorted(unknown))}")
    for name, value in GENERATE_DEFAULTS.items():
        if getattr(config, name, None) is None:
            setattr(config, name, value)
    for name, allowed in _UNSUPPORTED.items():
        value = getattr(config, name, None)
        if value is not None and (allowed is None or value not in allowed):
            raise ValueError(f"the constrained decoder does not support {name}={value!r}")
    if config.max_new_tokens is not None:
        config.max_length = config.max_new_tokens + 1
    elif default_max_length:
        positions = getattr(model.config, "max_position_embeddings", None)
        config.max_length = min(config.max_length + 1, positions or config.max_length + 1)
    if config.min_new_tokens is not None:
        config.min_length = config.min_new_tokens + 1
    return config


def _token_ids(value: Any) -> list[int]:
    """A special-token setting (None, an id or a list of ids) as a list."""
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]


class Scorer:
    """The model's side of the search: encoder once, then one decoder step per call.

    Holds the KV cache (public ``EncoderDecoderCache`` of two ``DynamicCache``) and
    the logits processors ``generate`` would apply, built from the public
    processor classes.  The ``no_repeat_ngram_size`` ban is applied here too,
    except on the tokens the caller exempts (those that advance a constraint).
    """

    def __init__(
        self, model: Any, config: GenerationConfig, input_ids: torch.Tensor, attention_mask: torch.Tensor, beams: int,
    ) -> None:
        self.model = model
        device = input_ids.device
        self.eos = torch.tensor(_token_ids(config.eos_token_id), dtype=torch.long, device=device)
        start = _token_ids(config.decoder_start_token_id) or _token_ids(config.bos_token_id)
        if not start:
            raise ValueError("the model sets neither decoder_start_token_id nor bos_token_id")
        self.start_id = start[0]
        pad = _token_ids(config.pad_token_id)
        self.fill_id = pad[0] if pad else (int(self.eos[0]) if len(self.eos) else -1)
        self.before_ngram, self.after_ngram = _processors(config, input_ids, device)
        n = config.no_repeat_ngram_size
        self.ngram = NoRepeatNGramLogitsProcessor(n) if n and n > 0 else None

        encoded = model.get_encoder()(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
        # Repeated per beam, as generate does.
        encoded.last_hidden_state = encoded.last_hidden_state.repeat_interleave(beams, dim=0)
        self.encoded = encoded
        self.mask = attention_mask.repeat_interleave(beams, dim=0)
        self.cache = EncoderDecoderCache(DynamicCache(config=model.config), DynamicCache(config=model.config))

    def log_probs(self, seqs: torch.Tensor, exempt: Callable[[int], torch.Tensor] | None = None) -> torch.Tensor:
        """Processed next-token log-probabilities [N,V] of the sequences ``seqs`` [N,T].

        ``exempt(V)`` [N,V] (bool), asked for only when the repetition guard is on,
        marks tokens the guard may not ban.
        """
        out = self.model(
            attention_mask=self.mask, encoder_outputs=self.encoded, decoder_input_ids=seqs[:, -1:],
            cache=self.cache, use_cache=True, return_dict=True,
        )
        self.cache = out.cache
        scores = torch.nn.functional.log_softmax(out.logits[:, -1, :].to(dtype=torch.float32), dim=-1)
        del out
        scores = self.before_ngram(seqs, scores)
        if self.ngram is not None:
            banned = self.ngram(seqs, torch.zeros_like(scores)) == float("-inf")
            if exempt is not None:
                banned &= ~exempt(scores.shape[-1])
            scores = scores.masked_fill(banned, float("-inf"))
        return self.after_ngram(seqs, scores)

    def reorder(self, parents: torch.Tensor) -> None:
        """Keep the cache rows of ``parents`` (flat beam indices), in that order."""
        # Only the self-attention cache depends on the beam; cross-attention is the same for
        # every beam of a sentence, so it is not reordered.
        self.cache.self_attention_cache.reorder_cache(parents)


def _processors(
    config: GenerationConfig, input_ids: torch.Tensor, device: torch.device,
) -> tuple[LogitsProcessorList, LogitsProcessorList]:
    """generate's logits processors for beam search, before and after the n-gram ban, in its order."""
    eos = _token_ids(config.eos_token_id)
    before, after = LogitsProcessorList(), LogitsProcessorList()
    if config.encoder_repetition_penalty != 1.0:
        before.append(EncoderRepetitionPenaltyLogitsProcessor(float(config.encoder_repetition_penalty), input_ids))
    if config.repetition_penalty != 1.0:
        before.append(RepetitionPenaltyLogitsProcessor(float(config.repetition_penalty)))
    if config.encoder_no_repeat_ngram_size > 0:
        after.append(EncoderNoRepeatNGramLogitsProcessor(config.encoder_no_repeat_ngram_size, input_ids))
    if config.bad_words_ids is not None:
        after.append(NoBadWordsLogitsProcessor(config.bad_words_ids, eos or None))
    if eos and config.min_length > 0:
        after.append(MinLengthLogitsProcessor(config.min_length, eos, device=device))
    if config.forced_bos_token_id is not None:
        after.append(ForcedBOSTokenLogitsProcessor(config.forced_bos_token_id))
    if config.forced_eos_token_id is not None:
        after.append(ForcedEOSTokenLogitsProcessor(config.max_length, config.forced_eos_token_id, device=device))
    if config.remove_invalid_values is True:
        after.append(InfNanRemoveLogitsProcessor())
    if config.suppress_tokens is not None:
        after.append(SuppressTokensLogitsProcessor(config.suppress_tokens, device=device))
    if config.begin_suppress_tokens is not None:
        begin = 1 if config.forced_bos_token_id is None else 2
        after.append(SuppressTokensAtBeginLogitsProcessor(config.begin_suppress_tokens, begin, device=device))
    if config.renormalize_logits is True:
        after.append(LogitNormalization())
    return before, after


@dataclass(frozen=True)
class Candidates:
    """One step's continuations [B,M]: parent beam, token, total score, their constraint states,
    constraints still unmet, and whether they stop (EOS or the length limit)."""

    beam: torch.Tensor
    token: torch.Tensor
    score: torch.Tensor
    invalid: torch.Tensor
    required: ConstraintState
    banned: ConstraintState
    unmet: torch.Tensor
    stop: torch.Tensor

    def take(self, index: torch.Tensor) -> Candidates:
        """The candidates at ``index`` [B,N], in that order (every field reordered alike)."""
        return Candidates(*(
            getattr(self, f.name).take(index) if isinstance(getattr(self, f.name), ConstraintState)
            else take(getattr(self, f.name), index)
            for f in dataclasses.fields(self)
        ))


@dataclass(frozen=True)
class Beams:
    """The running hypotheses [B,K]: sequences (start token first), scores, constraint states."""

    seqs: torch.Tensor  # [B,K,max_length]
    scores: torch.Tensor
    required: ConstraintState
    banned: ConstraintState

    @classmethod
    def start(cls, batch: int, beams: int, max_length: int, scorer: Scorer,
              required: ConstraintTracker, banned: ForbiddenTracker) -> Beams:
        """Every beam holds the start token; only the first is alive, as in generate."""
        device = required.table.seq.device
        seqs = torch.full((batch, beams, max_length), scorer.fill_id, dtype=torch.long, device=device)
        seqs[:, :, 0] = scorer.start_id
        scores = torch.zeros((batch, beams), device=device)
        scores[:, 1:] = _NEG
        return cls(seqs, scores, required.start(beams), banned.start(beams))

    def extend(self, cands: Candidates, cur_len: int) -> tuple[Beams, torch.Tensor, torch.Tensor]:
        """The next beams: the first K candidates in order that did not stop.

        Returns them, every candidate's sequence [B,M,L], and the parent of each new beam [B,K].
        """
        k = self.scores.shape[1]
        seqs = take(self.seqs, cands.beam).clone()
        seqs[:, :, cur_len] = cands.token
        position = torch.arange(cands.token.shape[1], device=seqs.device)[None, :]
        run = torch.topk(-(position + (cands.stop | cands.invalid).long() * (position.shape[1] + 1)), k).indices
        kept = cands.take(run)
        scores = (cands.score + cands.stop.float() * _NEG).gather(1, run)
        return Beams(take(seqs, run), scores, kept.required, kept.banned), seqs, kept.beam


class FinishedPool:
    """The ``K`` best finished hypotheses per input, as ``generate`` keeps them.

    A hypothesis with unmet constraints (forced out at the length limit) ranks
    below every one that met them all, whatever their scores.
    """

    def __init__(self, seqs: torch.Tensor, constraints: int, length_penalty: float, early_stopping: bool | str):
        b, k, _ = seqs.shape
        device = seqs.device
        self.length_penalty = length_penalty
        self.early_stopping = early_stopping
        self.seqs = seqs.clone()
        self.scores = torch.full((b, k), _NEG, device=device)
        self.finished = torch.zeros((b, k), dtype=torch.bool, device=device)
        self.unmet = torch.zeros((b, k), device=device)
        self.met = torch.zeros((b, k, constraints), dtype=torch.bool, device=device)
        self.length = torch.ones((b, k), dtype=torch.long, device=device)
        # False once no running hypothesis of an input can beat its finished ones.
        self.improvable = torch.ones((b, 1), dtype=torch.bool, device=device)

    def add(self, seqs: torch.Tensor, scores: torch.Tensor, stopped: torch.Tensor, unmet: torch.Tensor,
            met: torch.Tensor, length: int) -> None:
        """Merge the stopped ones of the top ``K`` candidates (seqs [B,K,L], ...) of length ``length``."""
        b, k = scores.shape
        new = scores / ((length - 1) ** self.length_penalty)
        full = self.finished.all(-1, keepdim=True) & (self.early_stopping is True)
        new = new + full.float() * _NEG
        new = new + (~self.improvable).float() * _NEG
        new = new + (~stopped).float() * _NEG
        merged_scores = torch.cat([self.scores, new], 1)
        merged_unmet = torch.cat([self.unmet, unmet.float()], 1)
        keep = torch.topk(merged_scores - merged_unmet * _UNMET_PENALTY, k).indices
        self.scores = merged_scores.gather(1, keep)
        self.unmet = merged_unmet.gather(1, keep)
        self.finished = torch.cat([self.finished, stopped], 1).gather(1, keep)
        self.length = torch.cat([self.length, torch.full_like(self.length, length)], 1).gather(1, keep)
        self.seqs = take(torch.cat([self.seqs, seqs], 1), keep)
        self.met = take(torch.cat([self.met, met], 1), keep)

    def update_improvable(self, running_scores: torch.Tensor, cur_len: int, max_length: int) -> None:
        """generate's early-stop heuristic: can the best running hypothesis still beat the worst finished one?"""
        if self.early_stopping == "never" and self.length_penalty > 0.0:
            best_len = max_length - 1
        else:
            best_len = cur_len - 1
        best_running = running_scores.max(-1, keepdim=True).values / (best_len**self.length_penalty)
        worst = torch.where(self.finished, self.scores.min(-1, keepdim=True).values, torch.full_like(self.scores, _NEG))
        self.improvable &= (best_running > worst).any(-1, keepdim=True)

    def done(self) -> bool:
        """No input can improve, or (early_stopping=True) every input has K finished hypotheses."""
        return not self.improvable.any() or (self.early_stopping is True and bool(self.finished.all()))

    def best(self, constraints: Sequence[int]) -> list[Hypothesis]:
        """The best hypothesis of each input; ``constraints[b]``: how many input ``b`` has."""
        out = []
        for b, n in enumerate(constraints):
            length = int(self.length[b, 0])
            tokens = tuple(self.seqs[b, 0, 1:length].tolist())
            met = tuple(bool(x) for x in self.met[b, 0, :n].tolist())
            out.append(Hypothesis(tokens, float(self.scores[b, 0]), met))
        return out


def _propose(total: torch.Tensor, beams: int, advancing: torch.Tensor, advancing_ok: torch.Tensor,
             constrained: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    """Candidate (beam, token, score, invalid) [B,M]: the top ``2K`` of ``total`` [B,K,V] (as generate).

    With ``constrained`` rows [B] (None: no row is guided) each beam of a
    constrained row adds its best token, and every beam adds the tokens that
    advance one of its unmet constraints (``advancing`` [B,K,A], where
    ``advancing_ok``), as in Post & Vilar; duplicates are marked invalid.
    """
    b, k, v = total.shape
    score, index = torch.topk(total.view(b, k * v), 2 * beams)
    beam, token = index // v, index % v
    invalid = torch.zeros_like(token, dtype=torch.bool)
    if constrained is None:
        return beam, token, score, invalid
    ext_tok = torch.cat([total.argmax(-1)[..., None], advancing], -1)
    ext_ok = torch.cat([constrained[:, None, None].expand(b, k, 1), advancing_ok], -1)
    ext_score = total.gather(-1, ext_tok)
    ext_ok = ext_ok & (ext_score > float("-inf"))
    ext_beam = torch.arange(k, device=total.device)[None, :, None].expand_as(ext_tok)
    beam = torch.cat([beam, ext_beam.reshape(b, -1)], 1)
    token = torch.cat([token, ext_tok.reshape(b, -1)], 1)
    score = torch.cat([score, ext_score.reshape(b, -1)], 1)
    invalid = torch.cat([invalid, ~ext_ok.reshape(b, -1)], 1)
    m = token.shape[1]
    key = torch.where(invalid, -1 - torch.arange(m, device=total.device)[None, :], beam * v + token)
    earlier = torch.ones(m, m, dtype=torch.bool, device=total.device).tril(-1)
    invalid = invalid | ((key[:, :, None] == key[:, None, :]) & earlier).any(-1)
    return beam, token, score, invalid


@torch.inference_mode()
def beam_search(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    constraints: Sequence[Sequence[Phrase]] | None = None,
    forbidden: Sequence[Sequence[Phrase]] | None = None,
    *,
    num_beams: int = 4,
    words: WordTable | None = None,
    **generation_kwargs: Any,
) -> list[Hypothesis]:
    """Beam search over a MarianMT model; ``constraints[b]`` must all appear in output ``b``.

    ``generation_kwargs`` are ``generate``'s (max_length, max_new_tokens,
    min_length, no_repeat_ngram_size, length_penalty, early_stopping, ...).
    ``forbidden[b]`` are phrases that may not be produced as whole words;
    they need ``words`` to tell word boundaries.  With no constraints the
    result equals ``generate(num_beams=num_beams, do_sample=False, ...)``.
    """
    device = input_ids.device
    B, K = input_ids.shape[0], num_beams
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    constraints = list(constraints or [[] for _ in range(B)])
    forbidden = list(forbidden or [[] for _ in range(B)])
    if any(forbidden) and words is None:
        raise ValueError("forbidden phrases need a WordTable to find word boundaries")

    config = generation_settings(model, K, **generation_kwargs)
    max_length = config.max_length
    # The last position that may hold a constraint token (the one after it is forced EOS).
    content_end = max_length - 1 if config.forced_eos_token_id is not None else max_length
    scorer = Scorer(model, config, input_ids, attention_mask, K)
    required = ConstraintTracker(constraints, B, device)
    banned = ForbiddenTracker(forbidden, B, device)
    guided = required.count > 0 or banned.count > 0
    constrained = required.required > 0 if guided else None
    continues = words.continues.to(device) if words is not None else None
    ends_word = words.ends_word.to(device) if words is not None else None

    beams = Beams.start(B, K, max_length, scorer, required, banned)
    pool = FinishedPool(beams.seqs, required.count, config.length_penalty, config.early_stopping)
    batch_offset = torch.arange(B, device=device)[:, None] * K
    cur_len = 1
    while True:
        # 1. Score the next token of every beam; tokens that advance a constraint escape the n-gram ban.
        prev = beams.seqs[:, :, cur_len - 1]
        prev_ends = ends_word[prev] if ends_word is not None else torch.zeros_like(prev, dtype=torch.bool)
        advancing, advancing_ok = required.next_tokens(beams.required, prev_ends)
        prefixes = beams.seqs[:, :, :cur_len].reshape(B * K, cur_len)
        log_probs = scorer.log_probs(prefixes, lambda vocab: _token_mask(advancing, advancing_ok, vocab)).view(B, K, -1)
        if guided and continues is not None:
            log_probs = _word_boundaries(log_probs, beams, continues)

        # 2. Candidates: generate's top 2K, plus (guided) each beam's best and constraint-advancing tokens.
        beam, token, score, invalid = _propose(log_probs + beams.scores[:, :, None], K, advancing, advancing_ok, constrained)
        parent_ends = prev_ends.gather(1, beam)
        cons = beams.required.take(beam)
        forb = beams.banned.take(beam)
        if guided:
            cons, forb = required.advance(cons, token, parent_ends), banned.advance(forb, token, parent_ends)
        is_eos = (token[..., None] == scorer.eos).any(-1)
        final_step = cur_len + 1 >= max_length
        cands = Candidates(beam, token, score, invalid, cons, forb, required.unmet(cons), is_eos | final_step)

        # 3. Dynamic Beam Allocation: no end with constraints unmet; fill the beam bank by bank.
        if guided:
            invalid = invalid | (is_eos & (cands.unmet > 0) & (not final_step))
            cands = dataclasses.replace(cands, invalid=invalid, score=score.masked_fill(invalid, float("-inf")))
            hopeless = required.needed(cands.required) > max(content_end - (cur_len + 1), 0)
            cands = cands.take(round_robin_order(required.bank(cons), cands.score, invalid, required.banks, hopeless))

        # 4. Running beams, then 5. finished hypotheses (only the first K candidates can finish, as in generate).
        beams, cand_seqs, parents = beams.extend(cands, cur_len)
        top = cands.take(torch.arange(K, device=device).expand(B, K))
        pool.add(cand_seqs[:, :K], top.score, top.stop & ~top.invalid, top.unmet, top.required.met, cur_len + 1)
        scorer.reorder((batch_offset + parents).reshape(-1))

        cur_len += 1
        pool.update_improvable(beams.scores, cur_len, max_length)
        if cur_len >= max_length or pool.done():
            break
    return pool.best([len(c) for c in constraints])


def _word_boundaries(log_probs: torch.Tensor, beams: Beams, continues: torch.Tensor) -> torch.Tensor:
    """Ban what would break a word boundary after the last token of each beam [B,K,V].

    A met constraint must end at a word boundary (no word-continuing piece after it);
    a forbidden phrase only counts when it does, so after one only word-continuing
    pieces are allowed.
    """
    glue = continues[None, None, : log_probs.shape[-1]]
    log_probs = log_probs.masked_fill(beams.required.just_met[:, :, None] & glue, float("-inf"))
    return log_probs.masked_fill(beams.banned.just_met[:, :, None] & ~glue, float("-inf"))


def _token_mask(tokens: torch.Tensor, ok: torch.Tensor, vocab: int) -> torch.Tensor:
    """bool [B*K,V]: ``tokens`` [B,K,A] where ``ok``, as a mask over the vocabulary."""
    b, k, _ = tokens.shape
    mask = torch.zeros((b, k, vocab + 1), dtype=torch.bool, device=tokens.device)
    # Tokens that are not ok go to the spare last column, which is dropped.
    mask.scatter_(-1, torch.where(ok, tokens, vocab), True)
    return mask[..., :vocab].reshape(b * k, vocab)


class TermEncoder:
    """Target-side tokenisations of glossary terms and word-boundary tables for a Marian tokenizer."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._cache: dict[str, Phrase | None] = {}
        self._bare = self._unmarked_processor()
        vocab = tokenizer.get_vocab()
        size = max(vocab.values()) + 1
        continues = torch.zeros(size, dtype=torch.bool)
        ends_word = torch.zeros(size, dtype=torch.bool)
        special = set(tokenizer.all_special_tokens)
        for piece, idx in vocab.items():
            if piece in special or not piece:
                continue
            continues[idx] = not piece.startswith(_MARKER) and bool(_WORD.match(piece))
            ends_word[idx] = bool(_WORD.match(piece[-1]))
        self.words = WordTable(continues, ends_word)

    def _unmarked_processor(self) -> Any:
        """The target SentencePiece model without its dummy word-start prefix."""
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2 as pb

        proto = pb.ModelProto()
        proto.ParseFromString(self.tokenizer.spm_target.serialized_model_proto())
        proto.normalizer_spec.add_dummy_prefix = False
        return spm.SentencePieceProcessor(model_proto=proto.SerializeToString())

    def phrase(self, form: str) -> Phrase | None:
        """Both tokenisations of ``form`` (with and without the word-start marker), or None."""
        if form in self._cache:
            return self._cache[form]
        tok = self.tokenizer
        unk = tok.unk_token_id
        variants: list[tuple[int, ...]] = []
        marked: list[bool] = []
        with_marker = tuple(tok(text_target=form, add_special_tokens=False).input_ids)
        bare_pieces = self._bare.encode(form, out_type=str)
        bare = tuple(tok.convert_tokens_to_ids(bare_pieces))
        for ids, mark in ((with_marker, True), (bare, False)):
            if ids and unk not in ids and ids not in variants:
                variants.append(ids)
                marked.append(mark)
        result = Phrase(tuple(variants), tuple(marked)) if variants else None
        self._cache[form] = result
        return result

    def for_hits(self, hits: Sequence[TermHit]) -> tuple[list[Phrase], list[Phrase]]:
        """Constraints (hit targets) and banned phrases (their forbidden forms) for one sentence."""
        terms = list(dict.fromkeys(h.term for h in hits))
        targets = list(dict.fromkeys(t.target for t in terms))
        # A target found inside another target (NATO in NATO summit) is met by that one.
        targets = [t for t in targets if not any(u != t and occurs(t, u) for u in targets)]
        constraints = [p for p in map(self.phrase, targets) if p is not None]
        bans = []
        for form in dict.fromkeys(f for t in terms for f in t.forbidden):
            p = self.phrase(form)
            # Never ban what a required target itself contains.
            if p is not None and not any(occurs(form, t) for t in targets):
                bans.append(p)
        return constraints, bans


def translate_batch(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    hits: Sequence[Sequence[TermHit]],
    *,
    encoder: TermEncoder | None = None,
    num_beams: int = 4,
    device: str | torch.device = "cpu",
    max_length_for: Callable[[int], int] | None = None,
    **generation_kwargs: Any,
) -> list[tuple[str, Hypothesis]]:
    """Translate ``texts`` so that every hit's target appears; returns (text, hypothesis) pairs.

    ``max_length_for(padded source length)``, if given, sets ``max_length`` from
    the tokenised batch (which is tokenised once, here).
    """
    encoder = encoder or TermEncoder(tokenizer)
    batch = tokenizer(list(texts), return_tensors="pt", padding=True, truncation=True).to(device)
    if max_length_for is not None:
        generation_kwargs["max_length"] = max_length_for(batch["input_ids"].shape[1])
    constraints, forbidden = [], []
    for h in hits:
        c, f = encoder.for_hits(h)
        constraints.append(c)
        forbidden.append(f)
    results = beam_search(
        model, batch["input_ids"], batch["attention_mask"], constraints, forbidden,
        num_beams=num_beams, words=encoder.words, **generation_kwargs,
    )
    texts_out = tokenizer.batch_decode([list(r.tokens) for r in results], skip_special_tokens=True)
    return list(zip(texts_out, results))
