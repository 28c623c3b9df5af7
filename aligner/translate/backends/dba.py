"""Beam search with hard lexical constraints for MarianMT (Dynamic Beam Allocation).

Post & Vilar (2018), vectorised over the batch as in Hu et al. (2019): every
candidate continuation is put in a *bank* by how many constraint tokens it has
met, and the beam is filled round-robin over the banks (best of the highest
bank, best of the next, ..., then the second best of each), so hypotheses that
honour constraints survive next to fluent ones.  A hypothesis may end only
when all its constraints are met; at the length limit the best partial ones are
forced out and the caller sees which constraints are missing.

The loop is ours (encoder once, decoder step by step with its KV cache), but
logits processors, candidate selection, length penalty and early stopping
follow ``GenerationMixin._beam_search`` of transformers 5 step for step, so
that with no constraints the output is the one ``generate(num_beams=k)`` gives.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from aligner.text import occurs
from aligner.types import TermHit

_NEG = -1.0e9
# Unmet constraints outrank any score difference when finished hypotheses are compared.
_UNMET_PENALTY = 1.0e5
_MARKER = "\u2581"  # SentencePiece word-start marker
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Phrase:
    """A target-side phrase as token sequences; each variant is one accepted tokenisation.

    ``marked[i]`` is True when variant ``i`` begins with the word-start marker
    (it may follow any token); an unmarked variant may only follow a token that
    does not end inside a word, so the phrase still starts at a word boundary.
    """

    variants: tuple[tuple[int, ...], ...]
    marked: tuple[bool, ...]


@dataclass(frozen=True)
class WordTable:
    """Per vocabulary entry: does the piece glue onto the previous word, does it end inside a word."""

    continues: torch.Tensor  # bool[V]
    ends_word: torch.Tensor  # bool[V]


@dataclass(frozen=True)
class Hypothesis:
    """The best finished hypothesis of one input: generated ids (start token excluded)."""

    tokens: tuple[int, ...]
    score: float
    met: tuple[bool, ...]


def _pack(phrases: Sequence[Sequence[Phrase]], batch: int, device: torch.device):
    """Constraint sets -> padded tensors [B, C, 2, L] (ids, -1 pad), lengths, marks, bank weights."""
    n = max((len(p) for p in phrases), default=0)
    width = max((len(v) for ps in phrases for p in ps for v in p.variants), default=1)
    seq = torch.full((batch, n, 2, width), -1, dtype=torch.long)
    length = torch.zeros((batch, n, 2), dtype=torch.long)
    marked = torch.ones((batch, n, 2), dtype=torch.bool)
    for b, ps in enumerate(phrases):
        for c, phrase in enumerate(ps):
            for v, (ids, mark) in enumerate(list(zip(phrase.variants, phrase.marked))[:2]):
                seq[b, c, v, : len(ids)] = torch.tensor(ids, dtype=torch.long)
                length[b, c, v] = len(ids)
                marked[b, c, v] = mark
    weight = length.max(-1).values
    return seq.to(device), length.to(device), marked.to(device), weight.to(device)


def _advance(prog, done_before, seq, length, marked, tok, prev_ends_word):
    """Progress of every (constraint, variant) automaton after appending ``tok``.

    prog [B,M,C,2]: tokens matched so far; done_before [B,M,C] blocks met
    constraints; tok, prev_ends_word [B,M].  Returns new progress and which
    constraints were completed by ``tok``.
    """
    b, m, c, _ = prog.shape
    if c == 0:
        return prog, torch.zeros((b, m, 0), dtype=torch.bool, device=prog.device)
    width = seq.shape[-1]
    seq_m = seq[:, None].expand(b, m, c, 2, width)
    expected = seq_m.gather(-1, prog.clamp(max=width - 1)[..., None]).squeeze(-1)
    t = tok[:, :, None, None]
    open_ = (length[:, None] > 0) & ~done_before[..., None]
    advance = (expected == t) & (prog > 0) & (prog < length[:, None]) & open_
    left_ok = marked[:, None] | ~prev_ends_word[:, :, None, None]
    start = (seq_m[..., 0] == t) & open_ & left_ok
    new = torch.where(advance, prog + 1, torch.where(start, torch.ones_like(prog), torch.zeros_like(prog)))
    completed = ((new == length[:, None]) & (length[:, None] > 0)).any(-1)
    new = torch.where(completed[..., None], torch.zeros_like(new), new)
    return new, completed


def generation_settings(model: Any, num_beams: int, **kwargs: Any) -> Any:
    """The generation config ``generate`` would build from the model's defaults and ``kwargs``."""
    config, _ = model._prepare_generation_config(None, num_beams=num_beams, do_sample=False, **kwargs)
    return config


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
    model._prepare_special_tokens(config, True, device=device, batch_size=B)
    processors = model._get_logits_processor(
        generation_config=config, input_ids_seq_length=1, encoder_input_ids=input_ids,
        device=device, model_kwargs={"attention_mask": attention_mask},
    )
    max_length = config.max_length
    length_penalty = config.length_penalty
    early_stopping = config.early_stopping
    eos = config._eos_token_tensor.reshape(-1) if config._eos_token_tensor is not None else torch.empty(0, dtype=torch.long, device=device)
    start_id = config._decoder_start_token_tensor.reshape(-1)[0].item()
    fill = config._pad_token_tensor.item() if config._pad_token_tensor is not None else (eos[0].item() if len(eos) else -1)

    cseq, clen, cmark, cweight = _pack(constraints, B, device)
    fseq, flen, fmark, _ = _pack(forbidden, B, device)
    C, F = cseq.shape[1], fseq.shape[1]
    cvalid = clen.max(-1).values > 0 if C else torch.zeros((B, 0), dtype=torch.bool, device=device)
    n_constraints = cvalid.sum(-1)  # [B]
    row_constrained = n_constraints > 0
    guided = C > 0 or F > 0
    n_banks = int(cweight.sum(-1).max().item()) + 1 if C else 1

    # Encoder once; its output repeated per beam, as generate does.
    encoder_out = model.get_encoder()(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
    encoder_out.last_hidden_state = encoder_out.last_hidden_state.repeat_interleave(K, dim=0)
    mask = attention_mask.repeat_interleave(K, dim=0)

    seqs = torch.full((B, K, max_length), fill, dtype=torch.long, device=device)
    seqs[:, :, 0] = start_id
    run_scores = torch.zeros((B, K), device=device)
    run_scores[:, 1:] = _NEG
    prog = torch.zeros((B, K, C, 2), dtype=torch.long, device=device)
    met = torch.zeros((B, K, C), dtype=torch.bool, device=device)
    just_met = torch.zeros((B, K), dtype=torch.bool, device=device)
    fprog = torch.zeros((B, K, F, 2), dtype=torch.long, device=device)
    fpending = torch.zeros((B, K), dtype=torch.bool, device=device)

    fin_seqs = seqs.clone()
    fin_scores = torch.full((B, K), _NEG, device=device)
    fin_flag = torch.zeros((B, K), dtype=torch.bool, device=device)
    fin_unmet = torch.zeros((B, K), device=device)
    fin_met = torch.zeros((B, K, C), dtype=torch.bool, device=device)
    fin_len = torch.ones((B, K), dtype=torch.long, device=device)
    improvable = torch.ones((B, 1), dtype=torch.bool, device=device)

    cont = words.continues.to(device) if words is not None else None
    ends_word = words.ends_word.to(device) if words is not None else None
    batch_arange = torch.arange(B, device=device)[:, None]
    beam_arange = torch.arange(K, device=device)
    cache = None
    cur_len = 1
    while True:
        flat_seqs = seqs[:, :, :cur_len].reshape(B * K, cur_len)
        out = model(
            attention_mask=mask, encoder_outputs=encoder_out, decoder_input_ids=flat_seqs[:, -1:],
            past_key_values=cache, use_cache=True, return_dict=True,
        )
        cache = out.past_key_values
        logits = out.logits[:, -1, :].to(dtype=torch.float32)
        del out
        log_probs = processors(flat_seqs, torch.nn.functional.log_softmax(logits, dim=-1))
        V = log_probs.shape[-1]
        log_probs = log_probs.view(B, K, V)
        if guided and cont is not None:
            # A met constraint must end at a word boundary; a forbidden phrase only counts when it
            # does, so after one only word-continuing pieces are allowed.
            log_probs = log_probs.masked_fill(just_met[:, :, None] & cont[None, None, :V], float("-inf"))
            log_probs = log_probs.masked_fill(fpending[:, :, None] & ~cont[None, None, :V], float("-inf"))
        total = log_probs + run_scores[:, :, None]
        top_scores, top_idx = torch.topk(total.view(B, K * V), 2 * K)
        cand_beam, cand_tok, cand_score = top_idx // V, top_idx % V, top_scores
        invalid = torch.zeros_like(cand_tok, dtype=torch.bool)

        if guided:
            prev_tok = seqs[:, :, cur_len - 1]
            prev_ends = ends_word[prev_tok] if ends_word is not None else torch.zeros_like(prev_tok, dtype=torch.bool)
            # Extra candidates of constrained rows: each beam's best token and the next token
            # of every open constraint (both tokenisations), as in Post & Vilar.
            best = total.argmax(-1)  # [B,K]
            if C:
                expected = cseq[:, None].expand(B, K, C, 2, cseq.shape[-1]).gather(
                    -1, prog.clamp(max=cseq.shape[-1] - 1)[..., None]).squeeze(-1)
                ok = (prog < clen[:, None]) & (clen[:, None] > 0) & ~met[..., None]
                ok &= (prog > 0) | cmark[:, None] | ~prev_ends[:, :, None, None]
                ext_tok = torch.cat([best[..., None], expected.reshape(B, K, 2 * C)], -1)
                ext_ok = torch.cat([row_constrained[:, None, None].expand(B, K, 1), ok.reshape(B, K, 2 * C)], -1)
            else:
                ext_tok, ext_ok = best[..., None], torch.zeros((B, K, 1), dtype=torch.bool, device=device)
            ext_score = total.gather(-1, ext_tok.clamp(min=0))
            ext_ok &= ext_score > float("-inf")
            ext_beam = beam_arange[None, :, None].expand_as(ext_tok)
            cand_beam = torch.cat([cand_beam, ext_beam.reshape(B, -1)], 1)
            cand_tok = torch.cat([cand_tok, ext_tok.clamp(min=0).reshape(B, -1)], 1)
            cand_score = torch.cat([cand_score, ext_score.reshape(B, -1)], 1)
            invalid = torch.cat([invalid, ~ext_ok.reshape(B, -1)], 1)
            M = cand_tok.shape[1]
            key = torch.where(invalid, -1 - torch.arange(M, device=device)[None, :], cand_beam * V + cand_tok)
            dup = ((key[:, :, None] == key[:, None, :]) & torch.ones(M, M, dtype=torch.bool, device=device).tril(-1)).any(-1)
            invalid |= dup

            parent_prev_ends = prev_ends.gather(1, cand_beam)
            p_prog = prog.gather(1, cand_beam[:, :, None, None].expand(B, M, C, 2))
            p_met = met.gather(1, cand_beam[:, :, None].expand(B, M, C))
            new_prog, completed = _advance(p_prog, p_met, cseq, clen, cmark, cand_tok, parent_prev_ends)
            new_met = p_met | completed
            new_just = completed.any(-1)
            # Bank = tokens met: whole met constraints plus the one furthest in progress (terms
            # sharing a prefix, like NATO summit / NATO Secretary General, must not count twice).
            if C:
                partial = torch.where(new_met, torch.zeros_like(new_prog[..., 0]), new_prog.max(-1).values)
                bank = torch.where(new_met, cweight[:, None], 0).sum(-1) + partial.max(-1).values
            else:
                bank = torch.zeros_like(cand_tok)
            unmet = n_constraints[:, None] - (new_met & cvalid[:, None]).sum(-1)
            p_fprog = fprog.gather(1, cand_beam[:, :, None, None].expand(B, M, F, 2))
            new_fprog, fdone = _advance(p_fprog, torch.zeros((B, M, F), dtype=torch.bool, device=device),
                                        fseq, flen, fmark, cand_tok, parent_prev_ends)
            new_fpending = fdone.any(-1)
        else:
            M = cand_tok.shape[1]
            unmet = torch.zeros_like(cand_tok)

        is_eos = (cand_tok[..., None] == eos).any(-1)
        final_step = cur_len + 1 >= max_length
        is_stop = is_eos | final_step
        if guided:
            invalid |= is_eos & (unmet > 0) & (not final_step)
            cand_score = cand_score.masked_fill(invalid, float("-inf"))
            # Round-robin over banks: rank within bank first, higher bank first, then score.
            order = torch.sort(cand_score, dim=1, descending=True, stable=True).indices
            take = lambda t: t.gather(1, order) if t.dim() == 2 else t.gather(1, order.view(B, M, *([1] * (t.dim() - 2))).expand_as(t))
            cand_beam, cand_tok, cand_score, invalid, is_stop, bank, unmet = map(
                take, (cand_beam, cand_tok, cand_score, invalid, is_stop, bank, unmet))
            new_prog, new_met, new_just, new_fprog, new_fpending = map(
                take, (new_prog, new_met, new_just, new_fprog, new_fpending))
            onehot = torch.nn.functional.one_hot(bank.clamp(max=n_banks - 1), n_banks)
            rank = (onehot.cumsum(1) * onehot).sum(-1) - 1
            rr = rank * n_banks + (n_banks - 1 - bank)
            rr = torch.where(invalid, torch.full_like(rr, 1 << 40), rr)
            order = torch.sort(rr, dim=1, stable=True).indices
            cand_beam, cand_tok, cand_score, invalid, is_stop, bank, unmet = map(
                take, (cand_beam, cand_tok, cand_score, invalid, is_stop, bank, unmet))
            new_prog, new_met, new_just, new_fprog, new_fpending = map(
                take, (new_prog, new_met, new_just, new_fprog, new_fpending))

        # Candidate sequences (only the first K can finish, as in generate).
        cand_seqs = seqs.gather(1, cand_beam[:, :, None].expand(B, M, max_length)).clone()
        cand_seqs[:, :, cur_len] = cand_tok

        # Running beams: the first K candidates in order that did not stop.
        position = torch.arange(M, device=device)[None, :].expand(B, M)
        run_key = position + (is_stop | invalid).long() * (M + 1)
        run_pick = torch.topk(-run_key, K).indices
        run_scores = (cand_score + is_stop.float() * _NEG).gather(1, run_pick)
        run_parent = cand_beam.gather(1, run_pick)
        seqs = cand_seqs.gather(1, run_pick[:, :, None].expand(B, K, max_length))
        if guided:
            prog = new_prog.gather(1, run_pick[:, :, None, None].expand(B, K, C, 2))
            met = new_met.gather(1, run_pick[:, :, None].expand(B, K, C))
            just_met = new_just.gather(1, run_pick)
            fprog = new_fprog.gather(1, run_pick[:, :, None, None].expand(B, K, F, 2))
            fpending = new_fpending.gather(1, run_pick)

        # Finished hypotheses: merge the stopped ones among the first K into the kept K.
        just_finished = is_stop[:, :K] & ~invalid[:, :K]
        fin_now = cand_score[:, :K] / ((cur_len + 1 - 1) ** length_penalty)
        full = fin_flag.all(-1, keepdim=True) & (early_stopping is True)
        fin_now = fin_now + full.float() * _NEG
        fin_now = fin_now + (~improvable).float() * _NEG
        fin_now = fin_now + (~just_finished).float() * _NEG
        merged_scores = torch.cat([fin_scores, fin_now], 1)
        merged_unmet = torch.cat([fin_unmet, unmet[:, :K].float()], 1)
        keep = torch.topk(merged_scores - merged_unmet * _UNMET_PENALTY, K).indices
        fin_scores = merged_scores.gather(1, keep)
        fin_unmet = merged_unmet.gather(1, keep)
        fin_flag = torch.cat([fin_flag, just_finished], 1).gather(1, keep)
        fin_len = torch.cat([fin_len, torch.full((B, K), cur_len + 1, device=device)], 1).gather(1, keep)
        fin_seqs = torch.cat([fin_seqs, cand_seqs[:, :K]], 1).gather(1, keep[:, :, None].expand(B, K, max_length))
        if C:
            fin_met = torch.cat([fin_met, new_met[:, :K]], 1).gather(1, keep[:, :, None].expand(B, K, C))

        # Only the self-attention cache depends on the beam; cross-attention is the same for
        # every beam of a sentence, so it is not reordered.
        flat_parent = (batch_arange * K + run_parent).reshape(-1)
        self_cache = getattr(cache, "self_attention_cache", cache)
        self_cache.reorder_cache(flat_parent)

        cur_len += 1
        # generate's early-stop heuristic (early_stopping=False: length so far).
        if early_stopping == "never" and length_penalty > 0.0:
            best_len = max_length - 1
        else:
            best_len = cur_len - 1
        best_running = run_scores.max(-1, keepdim=True).values / (best_len**length_penalty)
        worst_finished = torch.where(fin_flag, fin_scores.min(-1, keepdim=True).values, torch.full_like(fin_scores, _NEG))
        improvable = improvable & (best_running > worst_finished).any(-1, keepdim=True)
        if cur_len >= max_length or not improvable.any() or (early_stopping is True and fin_flag.all()):
            break

    results = []
    for b in range(B):
        length = int(fin_len[b, 0])
        tokens = tuple(fin_seqs[b, 0, 1:length].tolist())
        met_b = tuple(bool(x) for x in fin_met[b, 0, : len(constraints[b])].tolist()) if C else ()
        results.append(Hypothesis(tokens, float(fin_scores[b, 0]), met_b))
    return results


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
