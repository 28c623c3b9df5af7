// Review page. All text from the TMX reaches the DOM through textContent / text
// nodes only (never innerHTML), so markup inside a segment shows as text.
//
// Edits are kept by unit key (tuid, or source text where a file has no tuids), each
// with the unit as it was when the edit began (its base): the server applies an edit
// only to a unit still at its base and hands back the others as conflicts, so a save
// never undoes somebody else's change without the reviewer choosing to.
"use strict";

const state = {
  file: "", version: "", units: [], byKey: new Map(),
  edits: new Map(),     // unit key -> {target, status, base}; what Save sends
  live: new Map(),      // unit key -> row JSON re-checked after an edit
  conflicts: new Map(), // unit key -> {base, mine, disk} from the last save
  filter: "all", selected: null, saving: false,
  editing: null,        // key of the unit being edited
  editText: "",         // the text in its editor, kept across re-renders and filter changes
  search: "",           // text searched in both sides (case-insensitive)
  view: [],             // the units the filter and search let through, in order
  first: 0,             // the window of view[] rendered as rows: [first, first + WINDOW)
  rowHeight: 64,        // average height of a rendered row, for the space above and below the window
  undo: [], redo: [],   // steps: [{key, before, after}] (edits, or null for "no edit")
  align: false,
  files: [], fileIndex: 0, // the files of a project; the one shown
};

// Only this many rows are in the DOM at a time; the rest are space of the same height.
const WINDOW = 40;
const MARGIN = 10;

function hasSeverity(u, sev) { return row(u).issues.some((i) => i.severity === sev); }
function reviewed(u) { return ["approved", "rejected"].includes(current(u).status); }
function lowConfidence(u) { return u.flagged; }

const FILTERS = {
  all: () => true,
  // Any status but approved/rejected (draft, or another tool's "translated"...) needs review.
  review: (u) => !["approved", "rejected"].includes(current(u).status),
  issues: (u) => row(u).issues.length > 0,
  errors: (u) => hasSeverity(u, "error"),
  warnings: (u) => hasSeverity(u, "warning"),
  flagged: (u) => lowConfidence(u),
  edited: (u) => state.edits.has(u.key),
  approved: (u) => current(u).status === "approved",
  rejected: (u) => current(u).status === "rejected",
};

function matches(u) {
  if (!state.search) return true;
  const q = state.search.toLowerCase();
  return u.source.toLowerCase().includes(q) || current(u).target.toLowerCase().includes(q);
}

// The search hit, marked in a text node run: spans of [start, end) in text.
function searchSpans(text) {
  if (!state.search) return [];
  const spans = [];
  const low = text.toLowerCase(), q = state.search.toLowerCase();
  for (let at = low.indexOf(q); at >= 0; at = low.indexOf(q, at + q.length)) spans.push({ start: at, end: at + q.length, hit: true });
  return spans;
}

const $ = (sel) => document.querySelector(sel);
const tbody = () => $("#units tbody");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);  // strings become text nodes
  return node;
}

// Another tool's status value is shown as it is, styled as "other".
function statusBadge(status) {
  return el("span", { class: "status " + (["draft", "approved", "rejected"].includes(status) ? status : "other"), text: status });
}

// The English as the editor holds it: with inline codes, each code is a token ⟦n⟧.
function editable(u) { return u.target_tokens ?? u.target; }

function current(u) {
  const e = state.edits.get(u.key);
  return { target: e ? e.target : editable(u), status: e ? e.status : u.status };
}

function row(u) { return state.live.get(u.key) || u; }

function unitAt(index) { return index === null ? null : state.units[index] || null; }

// A segment with inline codes: text runs, and each code as a protected token.
function codeToken(p, n) {
  return el("span", { class: "code", title: `<${p.code}> ${p.text}`, text: `⟦${n}⟧ ${p.code}` });
}

function withCodes(parts) {
  const frag = document.createDocumentFragment();
  let n = 0;
  for (const p of parts) frag.append(p.code ? codeToken(p, ++n) : p.text);
  return frag;
}

// Editor text with ⟦n⟧ tokens shown as the codes they stand for.
function withTokens(text, parts) {
  const codes = parts.filter((p) => p.code);
  const frag = document.createDocumentFragment();
  const pieces = text.split(/⟦([0-9]+)⟧/);
  pieces.forEach((piece, i) => {
    if (i % 2 === 0) frag.append(piece);
    else frag.append(codes[Number(piece) - 1] ? codeToken(codes[Number(piece) - 1], piece) : `⟦${piece}⟧`);
  });
  return frag;
}

// Text with glossary spans (UTF-16 offsets from the server) wrapped in <mark>.
function highlighted(text, spans, render) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    frag.append(text.slice(at, s.start));
    const mark = render(s);
    mark.textContent = text.slice(s.start, s.end);
    frag.append(mark);
    at = s.end;
  }
  frag.append(text.slice(at));
  return frag;
}

function hitMark() { return el("mark", { class: "hit" }); }

// Search hits win over term marks where both fall on the same text.
function withHits(text, spans) {
  const hits = searchSpans(text);
  if (!hits.length) return spans;
  return [...hits, ...spans.filter((s) => !hits.some((h) => s.start < h.end && h.start < s.end))].sort((a, b) => a.start - b.start);
}

function sourceCell(u) {
  const td = u.source_parts ? el("td", { class: "src", lang: "id" }, withCodes(u.source_parts)) : el("td", { class: "src", lang: "id" }, highlighted(u.source, withHits(u.source, u.source_terms), (s) => s.hit ? hitMark() :
    el("mark", { class: "term" + (s.ok ? "" : " missing"), title: `${s.id}: English must be “${s.target}”` + (s.ok ? "" : " (missing from the English)") })));
  const tm = tmBlock(u);
  if (tm) td.append(tm);
  return td;
}

// A word diff from the server ([op, text]: "=" both, "+" the newer text only, "-" the older only) into box.
function diffNodes(ops, box) {
  for (const [op, text] of ops) box.append(op === "=" ? text : el(op === "+" ? "ins" : "del", { text }));
  return box;
}

// An edited unit: its English against the first draft (as loaded before this session's saves).
function draftBlock(r, cur) {
  if (!r.draft_diff || r.target !== cur.target) return null;
  return diffNodes(r.draft_diff, el("div", { class: "draft-diff", title: "Changes to the first draft: added, removed" },
    el("span", { class: "label", text: "vs. first draft: " })));
}

// Origin (TM exact / TM fuzzy / MT) and the fuzzy matches: their source with the words that
// differ from this source marked, their English with a button (key t) to take it into the editor.
function tmBlock(u) {
  const t = u.tm;
  if (!t || !t.label) return null;
  const box = el("div", { class: "tm" }, el("span", { class: "origin " + (t.origin || "none"), text: t.label }));
  t.fuzzy.forEach((f, n) => {
    const src = diffNodes(f.diff, el("div", { class: "fz-src", lang: "id", title: `memory unit ${f.tuid}` }));
    box.append(el("div", { class: "fuzzy" }, el("span", { class: "score", text: `${f.score}%` }), src,
      el("div", { class: "fz-tgt", lang: "en", text: f.target }),
      el("button", { type: "button", "data-act": "take", "data-fuzzy": String(n), title: "Use this English (t)", text: "use" })));
  });
  return box;
}

function takeFuzzy(index = state.selected, n = 0) {
  const u = unitAt(index);
  if (!u) return;
  const f = (u.tm || { fuzzy: [] }).fuzzy[n];
  if (!f) return;
  // Taken like a typed edit: one undo step, checked at once, left open for the reviewer.
  record([change(u, f.target, current(u).status)]);
  recheck(u, f.target);
  startEdit(index);
}

function targetCell(u) {
  const cur = current(u);
  const td = el("td", { class: "tgt", lang: "en" });
  if (state.editing === u.key) {
    const ta = el("textarea", { class: "editor", "aria-label": "English translation" });
    ta.value = state.editText;
    td.append(ta);
    return td;
  }
  if (u.target_parts) {
    td.append(u.target_tokens !== null ? withTokens(cur.target, u.target_parts) : withCodes(u.target_parts));
    if (u.locked) td.title = u.locked;
    return td;
  }
  const r = row(u);
  const spans = r.target === cur.target ? r.target_terms : [];
  td.append(highlighted(cur.target, withHits(cur.target, spans), (s) => s.hit ? hitMark() :
    el("mark", { class: "term " + s.kind, title: s.kind === "forbidden" ? `${s.id}: forbidden form, use “${s.target}”` : `${s.id}: required “${s.target}”` })));
  return td;
}

function statusCell(u) {
  const cur = current(u);
  return el("td", { class: "st" },
    statusBadge(cur.status), el("br"),
    el("button", { type: "button", "data-act": "approve", title: "Approve (a)", text: "✓" }),
    el("button", { type: "button", "data-act": "reject", title: "Reject (r)", text: "✗" }),
    el("button", { type: "button", "data-act": "edit", title: "Edit (e)", text: "✎" }),
    el("button", { type: "button", "data-act": "draft", title: "Back to draft (d)", text: "↺" }));
}

// Alignment mode: bead type, score and the source/target segment numbers of a unit.
function beadCell(u) {
  const td = el("td", { class: "bead" });
  if (!u.bead && !u.score) return td;
  td.append(el("span", { class: "bead-kind" + (u.flagged ? " low" : ""), text: u.bead || "?" }));
  if (u.score) td.append(el("br"), el("span", { class: "score", title: "alignment confidence", text: Number(u.score).toFixed(2) }));
  if (u.segment) td.append(el("br"), el("span", { class: "segno", title: "source segment numbers", text: "§" + u.segment }));
  if (u.tgt_segment) td.append(el("br"), el("span", { class: "segno tgt", title: "target segment numbers", text: "→§" + u.tgt_segment }));
  td.append(el("div", { class: "fixes" },
    el("button", { type: "button", "data-fix": "merge", "data-side": "tgt", title: "Merge the next unit's English into this one (m)", text: "⇡EN" }),
    el("button", { type: "button", "data-fix": "merge", "data-side": "src", title: "Merge the next unit's Indonesian into this one (M)", text: "⇡ID" }),
    el("button", { type: "button", "data-fix": "split", title: "Split at the cursor: in the English editor, or a click in the Indonesian (s)", text: "✂" }),
    el("button", { type: "button", "data-fix": "move", "data-side": "tgt", "data-at": "1", title: "Move the last English sentence to the next unit (])", text: "EN↓" }),
    el("button", { type: "button", "data-fix": "move", "data-side": "tgt", "data-at": "-1", title: "Move the first English sentence to the unit above ([)", text: "EN↑" }),
    el("button", { type: "button", "data-fix": "move", "data-side": "src", "data-at": "1", title: "Move the last Indonesian sentence to the next unit (})", text: "ID↓" }),
    el("button", { type: "button", "data-fix": "move", "data-side": "src", "data-at": "-1", title: "Move the first Indonesian sentence to the unit above ({)", text: "ID↑" }),
    el("button", { type: "button", "data-fix": "delete", title: "Delete this unmatched unit (x)", text: "del" }),
    el("button", { type: "button", "data-fix": "realign", title: "Realign between the approved units around this one (R)", text: "⟳" })));
  return td;
}

// Where the reviewer's cursor is: the English editor's caret, or a click/selection in the Indonesian.
function cursorIn(u) {
  const ta = editor();
  if (ta && state.editing === u.key) return { side: "tgt", at: ta.selectionStart };
  const sel = getSelection();
  const td = tbody().querySelector(`tr[data-index="${u.index}"] td.src`);
  if (sel && sel.rangeCount && td && td.contains(sel.anchorNode)) {
    const range = document.createRange();
    range.setStart(td, 0);
    range.setEnd(sel.anchorNode, sel.anchorOffset);
    return { side: "src", at: range.toString().length };
  }
  return null;
}

// An alignment fix runs on the server, on the file (saved with a backup); unsaved edits are saved first.
async function fix(op, side = "tgt", at = 0, index = state.selected) {
  const u = unitAt(index);
  if (!u || state.saving) return;
  const body = { op, key: u.key, side, at, version: state.version };
  if (op === "split") {
    const c = cursorIn(u);
    if (!c) { message("Split: put the cursor where the unit should be cut (edit the English, or click in the Indonesian)."); return; }
    Object.assign(body, c);
  }
  if (op === "realign") {
    const above = state.units.slice(0, u.index).reverse().find((v) => current(v).status === "approved");
    const below = state.units.slice(u.index + 1).find((v) => current(v).status === "approved");
    if (!above || !below) { message("Realign: approve a unit above and one below the stretch to realign; they stay as they are."); return; }
    body.key = above.key;
    body.last = below.key;
  }
  if (state.editing !== null) commitEdit();
  if (state.edits.size) { await save(); if (state.edits.size) return; }
  await runFix(body, () => state.undo.push([{ server: true }]));
}

async function runFix(body, done) {
  state.saving = true;
  $("#busy").textContent = "Saving…";
  $("#busy").hidden = false;
  try {
    const res = await api("/api/fix", body);
    const data = await res.json();
    if (!res.ok) { message(`Not changed: ${data.error || res.statusText}`); return; }
    const at = state.selected;
    accept(data);
    done();
    if (state.files.length > 1) loadFiles();
    select(Math.min(at ?? 0, state.units.length - 1));
    message(`${{ undo: "Undone", redo: "Redone" }[body.op] || "Fixed"}: ${body.op === "undo" || body.op === "redo" ? "alignment" : body.op}; saved to ${data.file}.`, true);
  } catch (e) {
    message(`Not changed: the server did not answer (${e.message}).`);
  } finally {
    state.saving = false;
    $("#busy").hidden = true;
  }
}

function issuesCell(u) {
  const list = el("ul", { class: "issues" });
  for (const i of row(u).issues) list.append(el("li", { class: i.severity, title: i.check, text: `${i.severity}: ${i.message}` }));
  for (const n of u.notes) list.append(el("li", { class: "note", title: "note from the TMX", text: `note: ${n}` }));
  const td = el("td", { class: "iss" });
  // Beside the English, not in it: the English cell shows the text exactly as it is.
  const diff = draftBlock(row(u), current(u));
  if (diff) td.append(diff);
  td.append(list);
  return td;
}

function renderRow(u) {
  const tr = el("tr", { "data-index": String(u.index), "data-tuid": u.tuid, "data-key": u.key },
    el("td", { class: "n", text: String(u.index + 1) }), sourceCell(u), targetCell(u), statusCell(u), issuesCell(u));
  if (state.align) tr.insertBefore(beadCell(u), tr.children[1]);
  if (state.edits.has(u.key)) tr.classList.add("edited");
  if (state.conflicts.has(u.key)) tr.classList.add("conflict");
  if (state.selected === u.index) tr.classList.add("selected");
  return tr;
}

// The unit being edited stays in view whatever the filter, so the typing is never hidden.
function visible() { return state.units.filter((u) => u.key === state.editing || (FILTERS[state.filter](u) && matches(u))); }

function editor() { return tbody().querySelector("textarea.editor"); }

// After a re-render the editor is a new element: give it the focus and caret back.
function refocus(sel) {
  const ta = editor();
  if (!ta) return;
  grow(ta);
  ta.focus();
  const at = sel || [ta.value.length, ta.value.length];
  ta.setSelectionRange(at[0], at[1]);
}

function editorSelection() {
  const ta = editor();
  return ta && document.activeElement === ta ? [ta.selectionStart, ta.selectionEnd] : null;
}

// Filter (and search) again, then draw the window of rows around the selection.
function render() {
  state.view = visible();
  const rows = state.view;
  if (state.selected === null || !rows.some((u) => u.index === state.selected)) state.selected = rows.length ? rows[0].index : null;
  const at = rows.findIndex((u) => u.index === state.selected);
  if (at < state.first || at >= state.first + WINDOW) state.first = Math.max(0, at - MARGIN);
  state.first = Math.min(state.first, Math.max(0, rows.length - WINDOW));
  drawWindow();
  $("#empty").hidden = rows.length > 0;
  renderChrome();
  renderConflicts();
}

// Rows view[first .. first+WINDOW) in the table, the others as padding of their estimated height.
function drawWindow() {
  const sel = editorSelection();
  const rows = state.view;
  const shown = rows.slice(state.first, state.first + WINDOW);
  tbody().replaceChildren(...shown.map(renderRow));
  const drawn = tbody().children.length;
  if (drawn) state.rowHeight = Math.max(24, tbody().getBoundingClientRect().height / drawn);
  $("#pad-top").style.height = `${Math.round(state.first * state.rowHeight)}px`;
  $("#pad-bottom").style.height = `${Math.round(Math.max(0, rows.length - state.first - drawn) * state.rowHeight)}px`;
  if (state.editing !== null) refocus(sel);
}

// Scrolling past the drawn rows moves the window to where the page now is.
function onScroll() {
  if (state.view.length <= WINDOW || state.scrollPending) return;
  state.scrollPending = true;
  requestAnimationFrame(() => {
    state.scrollPending = false;
    const top = $("#pad-top").getBoundingClientRect().top;
    const at = Math.floor(-top / state.rowHeight);
    if (at < state.first + 5 || at + innerHeight / state.rowHeight > state.first + WINDOW - 5) {
      const first = Math.min(Math.max(0, at - MARGIN), Math.max(0, state.view.length - WINDOW));
      if (first !== state.first) { state.first = first; drawWindow(); }
    }
  });
}

function rerenderRow(index) {
  const u = unitAt(index);
  const old = tbody().querySelector(`tr[data-index="${index}"]`);
  if (old && u) {
    const sel = u.key === state.editing ? editorSelection() : null;
    old.replaceWith(renderRow(u));
    if (sel) refocus(sel);
  }
  renderChrome();
}

// Units both this page and someone else changed: both versions, side by side, to choose from.
function renderConflicts() {
  const box = $("#conflicts");
  const items = [];
  for (const [key, c] of state.conflicts) {
    const who = c.disk ? [c.disk.changeid, c.disk.changedate].filter(Boolean).join(", ") : "";
    const disk = c.disk
      ? el("div", { class: "side disk" }, el("h3", { text: "On disk now" + (who ? ` (${who})` : "") }),
        statusBadge(c.disk.status), el("p", { class: "text", text: c.disk.target }))
      : el("div", { class: "side disk" }, el("h3", { text: "On disk now" }), el("p", { text: "This unit is no longer in the file." }));
    const mine = el("div", { class: "side mine" }, el("h3", { text: "Yours" }),
      statusBadge(c.mine.status), el("p", { class: "text", text: c.mine.target }));
    const actions = el("div", { class: "actions" },
      el("button", { type: "button", "data-choose": "disk", text: c.disk ? "Keep the version on disk" : "Drop my edit" }));
    if (c.disk) actions.append(el("button", { type: "button", "data-choose": "mine", text: "Use mine" }));
    items.push(el("li", { "data-key": key }, el("p", { class: "src", lang: "id", text: c.base.source }), el("div", { class: "sides" }, disk, mine), actions));
  }
  box.querySelector("ul").replaceChildren(...items);
  box.hidden = items.length === 0;
}

function choose(key, which) {
  const c = state.conflicts.get(key);
  if (!c) return;
  state.conflicts.delete(key);
  const e = state.edits.get(key);
  if (which === "mine" && e && c.disk) {
    // Mine wins over the version on disk now: that version becomes the edit's base.
    e.base = { source: c.disk.source, target: c.disk.target, status: c.disk.status };
    message("Your version will replace the one on disk when you save.", true);
  } else {
    state.edits.delete(key);
    state.live.delete(key);
    message("Kept the version on disk.", true);
  }
  render();
}

function renderChrome() {
  $("#file").textContent = state.file;
  const counts = {};
  for (const f of Object.keys(FILTERS)) counts[f] = 0;
  let done = 0;
  for (const u of state.units) {
    for (const f in FILTERS) if (FILTERS[f](u)) counts[f]++;
    if (reviewed(u)) done++;
  }
  for (const b of document.querySelectorAll("#filters button")) {
    const f = b.dataset.filter;
    b.classList.toggle("active", f === state.filter);
    b.querySelector(".count").textContent = String(counts[f]);
  }
  document.body.classList.toggle("align", state.align);
  const total = state.units.length;
  $("#progress").value = done;
  $("#progress").max = Math.max(1, total);
  $("#progress-text").textContent = `${done} of ${total} reviewed`;
  const n = state.edits.size;
  $("#dirty").hidden = n === 0;
  $("#dirty").textContent = n ? `● ${n} unsaved edit${n === 1 ? "" : "s"}` : "";
  document.title = (n ? "* " : "") + `${state.file} – aligner review`;
}

function message(text, ok = false, action = null) {
  const m = $("#message");
  m.replaceChildren(text);
  if (action) m.append(el("button", { type: "button", text: action.label }));
  if (action) m.querySelector("button").addEventListener("click", action.run);
  m.classList.toggle("ok", ok);
  m.hidden = !text;
}

// --- actions -------------------------------------------------------------

function select(index, scroll = true) {
  const prev = state.selected;
  state.selected = index;
  const at = state.view.findIndex((u) => u.index === index);
  if (at >= 0 && (at < state.first || at >= state.first + WINDOW)) {
    state.first = Math.min(Math.max(0, at - MARGIN), Math.max(0, state.view.length - WINDOW));
    drawWindow();
  }
  for (const i of [prev, index]) {
    const tr = i === null ? null : tbody().querySelector(`tr[data-index="${i}"]`);
    if (tr) tr.classList.toggle("selected", i === index);
  }
  if (scroll && index !== null) tbody().querySelector(`tr[data-index="${index}"]`)?.scrollIntoView({ block: "nearest" });
}

function move(step) {
  const rows = state.view;
  if (!rows.length) return;
  const at = rows.findIndex((u) => u.index === state.selected);
  const next = Math.max(0, Math.min(rows.length - 1, at < 0 ? 0 : at + step));
  select(rows[next].index);
}

function baseOf(u) { return { source: u.source, target: u.target, status: u.status }; }

// One reviewer action (an edit, a status, a bulk approve) is one undo step of many changes.
function record(changes) {
  if (!changes.length) return;
  state.undo.push(changes);
  if (state.undo.length > 500) state.undo.shift();
  state.redo = [];
}

function change(u, target, status) {
  const before = state.edits.get(u.key);
  setEdit(u, target, status);
  const after = state.edits.get(u.key);
  return { key: u.key, before: before ? { ...before } : null, after: after ? { ...after } : null };
}

function replay(from, to, side) {
  const step = from.pop();
  if (!step) { message(side === "before" ? "Nothing to undo." : "Nothing to redo.", true); return; }
  if (step[0].server) {
    // An alignment fix is undone (redone) on the file by the server.
    runFix({ op: side === "before" ? "undo" : "redo", version: state.version }, () => to.push(step));
    return;
  }
  to.push(step);
  for (const c of step) {
    const e = c[side];
    if (e) state.edits.set(c.key, { ...e }); else state.edits.delete(c.key);
    const u = state.byKey.get(c.key);
    if (u) recheck(u, current(u).target);
  }
  const last = state.byKey.get(step[step.length - 1].key);
  message(`${side === "before" ? "Undone" : "Redone"}: ${step.length} unit${step.length === 1 ? "" : "s"}.`, true);
  render();
  if (last) select(last.index);
}

function undo() { replay(state.undo, state.redo, "before"); }
function redo() { replay(state.redo, state.undo, "after"); }

function setEdit(u, target, status) {
  const old = state.edits.get(u.key);
  if (target === editable(u) && status === u.status && !state.conflicts.has(u.key)) state.edits.delete(u.key);
  // The base stays the unit as it was when the edit began, whatever was loaded since.
  else state.edits.set(u.key, { target, status, base: old ? old.base : baseOf(u) });
}

function startEdit(index = state.selected) {
  const u = unitAt(index);
  if (!u) return;
  if (u.locked) { message(`Unit ${index + 1}: ${u.locked}.`); return; }
  state.editing = u.key;
  state.editText = current(u).target;
  rerenderRow(index);
  refocus();
  if (u.target_tokens !== null) message("Each ⟦n⟧ is an inline code of this segment: keep every one exactly once (move them where the sentence needs them).", true);
}

function editingUnit() { return state.editing === null ? null : state.byKey.get(state.editing) || null; }

function commitEdit() {
  const u = editingUnit();
  state.editing = null;
  if (!u) return;
  if (state.editText !== current(u).target) record([change(u, state.editText, current(u).status)]);
  recheck(u, state.editText);
  rerenderRow(u.index);
}

function cancelEdit() {
  const u = editingUnit();
  state.editing = null;
  if (u) rerenderRow(u.index);
}

function setStatus(status, index = state.selected) {
  const u = unitAt(index);
  if (!u) return;
  const cur = current(u);
  const next = cur.status === status && status !== "draft" ? u.status : status;
  if (next === "approved" && cur.status !== "approved" && hasSeverity(u, "error")) {
    message(`Unit ${index + 1} approved with QA errors: ${row(u).issues.filter((i) => i.severity === "error").map((i) => i.message).join("; ")}.`);
  }
  record([change(u, cur.target, next)]);
  rerenderRow(index);
}

// Approve every row the filter and search show, after a confirmation naming the count.
function bulkApprove() {
  const rows = state.view.filter((u) => current(u).status !== "approved");
  if (!rows.length) { message("Every unit shown is already approved.", true); return; }
  const withErrors = rows.filter((u) => hasSeverity(u, "error")).length;
  const text = `Approve ${rows.length} unit${rows.length === 1 ? "" : "s"}` +
    (withErrors ? ` (${withErrors} with QA errors)` : "") + "?";
  if (!confirm(text)) return;
  record(rows.map((u) => change(u, current(u).target, "approved")));
  message(`Approved ${rows.length} unit${rows.length === 1 ? "" : "s"}` + (withErrors ? `, ${withErrors} with QA errors` : "") + ". Save to keep.", !withErrors);
  render();
}

// The next (step 1) or previous (-1) unit with an issue or an aligner flag, in the filtered rows.
function nextIssue(step) {
  const rows = state.view;
  if (!rows.length) return;
  const at = rows.findIndex((u) => u.index === state.selected);
  for (let n = 1; n <= rows.length; n++) {
    const u = rows[(at + step * n + rows.length * n) % rows.length];
    if (row(u).issues.length || u.flagged) { select(u.index); return; }
  }
  message("No unit with issues here.", true);
}

async function recheck(u, target) {
  try {
    const res = await api("/api/check", { key: u.key, target });
    if (res.ok) {
      const data = await res.json();
      const now = state.byKey.get(u.key);
      if (now && current(now).target === target) { state.live.set(u.key, data); rerenderRow(now.index); }
    }
  } catch (e) { /* the row keeps its old issues; saving re-checks everything */ }
}

function api(path, body) {
  return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, file: state.fileIndex }) });
}

async function save() {
  if (state.editing !== null) commitEdit();
  if (state.saving) return;
  if (!state.edits.size) { message("Nothing to save.", true); return; }
  state.saving = true;
  $("#busy").textContent = "Saving…";
  $("#busy").hidden = false;
  const edits = [...state.edits].map(([key, e]) => ({ key, base: e.base, target: e.target, status: e.status }));
  try {
    const res = await api("/api/save", { version: state.version, since: state.version, edits });
    const data = await res.json();
    if (res.ok) {
      const conflicts = new Map(data.conflicts.map((c) => [c.key, c]));
      // Forget the edits this save wrote; one changed while the request was under way stays.
      for (const sent of edits) {
        const e = state.edits.get(sent.key);
        if (e && !conflicts.has(sent.key) && e.target === sent.target && e.status === sent.status) state.edits.delete(sent.key);
      }
      state.conflicts = conflicts;
      accept(data);
      const saved = `Saved ${data.saved} unit${data.saved === 1 ? "" : "s"} to ${data.file}` +
        (data.backup ? ` (previous version kept as ${data.backup})` : "") + ".";
      if (state.files.length > 1) loadFiles();
      if (conflicts.size) {
        message(`${saved} ${conflicts.size} unit${conflicts.size === 1 ? " was" : "s were"} changed on disk by someone else ` +
          "since this page loaded it: choose which version to keep below, then save again.");
      } else {
        message(saved, true);
      }
    } else {
      message(`Not saved: ${data.error || res.statusText}. Your edits are still in the page.`);
    }
  } catch (e) {
    message(`Not saved: the server did not answer (${e.message}). Your edits are still in the page.`);
  } finally {
    state.saving = false;
    $("#busy").hidden = true;
    renderChrome();
  }
}

function accept(data) {
  state.file = data.file;
  state.version = data.version;
  state.align = Boolean(data.align);
  if (data.changed) {
    // Only the rows this save changed came back: put them in place of the old ones.
    for (const u of data.changed) {
      const old = state.units[u.index];
      if (old) state.byKey.delete(old.key);
      state.units[u.index] = u;
      state.byKey.set(u.key, u);
      state.live.delete(u.key);
    }
  } else {
    state.units = data.units;
    state.byKey = new Map(data.units.map((u) => [u.key, u]));
    state.live.clear();
  }
  if (data.missing) message(`Nothing to review in ${data.file}: ${data.missing}.`);
  // Edits whose unit matches them now (someone made the same change) need no saving.
  for (const [key, e] of [...state.edits]) {
    const u = state.byKey.get(key);
    if (u && editable(u) === e.target && u.status === e.status && !state.conflicts.has(key)) state.edits.delete(key);
  }
  render();
}

// A project (several files): the file list with each file's progress; one save per file.
async function loadFiles() {
  try {
    state.files = await (await fetch("/api/files")).json();
  } catch (e) { state.files = []; }
  const nav = $("#files");
  nav.hidden = state.files.length < 2;
  nav.replaceChildren(...state.files.map((f) => el("button", {
    type: "button", "data-file": String(f.index), class: f.index === state.fileIndex ? "active" : "", title: f.path,
  }, f.file, " ", el("span", { class: "count", text: `${f.reviewed}/${f.total}` }))));
}

async function loadFile(n) {
  if (n !== state.fileIndex && (state.edits.size || state.editing !== null)) {
    message(`Save (Ctrl+S) or undo the unsaved edits of ${state.file} first.`);
    return;
  }
  state.fileIndex = n;
  Object.assign(state, { units: [], byKey: new Map(), edits: new Map(), live: new Map(), conflicts: new Map(),
    selected: null, editing: null, undo: [], redo: [], first: 0 });
  $("#busy").textContent = "Loading…";
  $("#busy").hidden = false;
  document.body.dataset.ready = "";
  try {
    const res = await fetch(`/api/units?light=1&file=${n}`);
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || res.statusText);
    message("");
    accept(data);
    if (data.pending) checkLater(data.version);
    else $("#busy").hidden = true;
  } catch (e) {
    $("#busy").hidden = true;
    message(`Could not load the file: ${e.message}`);
  } finally {
    document.body.dataset.ready = "1";
    for (const b of document.querySelectorAll("#files button")) b.classList.toggle("active", Number(b.dataset.file) === n);
  }
}

// A big file is shown before its QA is done: follow the server's checking, then take the rows
// with their issues (edits in the page are kept: they are by unit key).
async function checkLater(version) {
  try {
    for (;;) {
      const p = await (await fetch(`/api/status?file=${state.fileIndex}`)).json();
      if (p.version !== version) break;
      if (p.ready) break;
      $("#busy").textContent = `Checking ${p.checked.toLocaleString("en")} of ${p.total.toLocaleString("en")} units…`;
      await new Promise((r) => setTimeout(r, 700));
    }
    const file = state.fileIndex;
    const res = await fetch(`/api/units?file=${file}`);
    if (res.ok && !state.saving && file === state.fileIndex) accept(await res.json());
  } catch (e) { /* the rows stay without their issues until the next load */ }
  if (!state.saving) $("#busy").hidden = true;
}

// --- input ---------------------------------------------------------------

function onKey(ev) {
  const ctrlS = (ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "s";
  if (ctrlS) { ev.preventDefault(); save(); return; }
  if (state.editing !== null) {
    if (ev.key === "Escape") { ev.preventDefault(); cancelEdit(); }
    else if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); commitEdit(); }
    return;
  }
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement) {
    if (ev.target.id === "search" && (ev.key === "Enter" || ev.key === "Escape")) { ev.preventDefault(); ev.target.blur(); }
    return;
  }
  const mod = ev.ctrlKey || ev.metaKey;
  if (mod && ev.key.toLowerCase() === "z") { ev.preventDefault(); if (ev.shiftKey) redo(); else undo(); return; }
  if (mod && ev.key.toLowerCase() === "y") { ev.preventDefault(); redo(); return; }
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const keys = {
    j: () => move(1), k: () => move(-1), ArrowDown: () => move(1), ArrowUp: () => move(-1),
    e: () => startEdit(), Enter: () => startEdit(), t: () => takeFuzzy(),
    a: () => { setStatus("approved"); move(1); }, r: () => { setStatus("rejected"); move(1); },
    d: () => setStatus("draft"), u: () => undo(), U: () => redo(),
    n: () => nextIssue(1), N: () => nextIssue(-1),
    "/": () => $("#search").focus(),
    ...(state.align ? {
      m: () => fix("merge", "tgt"), M: () => fix("merge", "src"), s: () => fix("split"),
      "]": () => fix("move", "tgt", 1), "[": () => fix("move", "tgt", -1),
      "}": () => fix("move", "src", 1), "{": () => fix("move", "src", -1),
      x: () => fix("delete"), R: () => fix("realign"),
    } : {}),
    Escape: () => message(""),
  };
  if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
}

function grow(ta) { ta.style.height = "auto"; ta.style.height = `${ta.scrollHeight + 2}px`; }

function onInput(ev) {
  if (ev.target.matches("textarea.editor")) { state.editText = ev.target.value; grow(ev.target); }
  if (ev.target.id === "search") { state.search = ev.target.value; state.first = 0; render(); }
}

function onClick(ev) {
  const file = ev.target.closest("#files button");
  if (file) { loadFile(Number(file.dataset.file)); return; }
  const filter = ev.target.closest("#filters button");
  // The editor stays open and keeps its text: the unit being edited is shown under every filter.
  if (filter) { state.filter = filter.dataset.filter; render(); return; }
  const choice = ev.target.closest("#conflicts button[data-choose]");
  if (choice) { choose(choice.closest("li").dataset.key, choice.dataset.choose); return; }
  const tr = ev.target.closest("tbody tr");
  if (!tr) return;
  const index = Number(tr.dataset.index);
  const fixer = ev.target.closest("button[data-fix]");
  if (fixer) {
    // The split needs the cursor as it was: do not close the editor or move the selection first.
    if (state.selected !== index) select(index, false);
    fix(fixer.dataset.fix, fixer.dataset.side || "tgt", Number(fixer.dataset.at || 0), index);
    return;
  }
  const act = ev.target.closest("button[data-act]");
  // A click anywhere but the editor keeps the edit first (a button re-renders the row).
  if (state.editing !== null && !ev.target.closest("textarea.editor")) commitEdit();
  if (state.selected !== index) select(index, false);
  if (act) {
    if (act.dataset.act === "edit") startEdit(index);
    else if (act.dataset.act === "take") takeFuzzy(index, Number(act.dataset.fuzzy));
    else setStatus({ approve: "approved", reject: "rejected", draft: "draft" }[act.dataset.act], index);
  }
}

function onDblClick(ev) {
  const td = ev.target.closest("td.tgt");
  if (td && state.editing === null) startEdit(Number(td.parentElement.dataset.index));
}

window.addEventListener("beforeunload", (ev) => {
  if (state.edits.size || state.editing !== null) { ev.preventDefault(); ev.returnValue = ""; }
});

document.addEventListener("DOMContentLoaded", async () => {
  document.addEventListener("keydown", onKey);
  document.addEventListener("click", onClick);
  document.addEventListener("input", onInput);
  document.addEventListener("dblclick", onDblClick);
  // A fix button must not take the text cursor away: the split reads it.
  document.addEventListener("mousedown", (ev) => { if (ev.target.closest("button[data-fix]")) ev.preventDefault(); });
  $("#save").addEventListener("click", save);
  $("#bulk").addEventListener("click", bulkApprove);
  window.addEventListener("scroll", onScroll, { passive: true });
  await loadFiles();
  await loadFile(0);
});
