// Review page. All text from the TMX reaches the DOM through textContent / text
// nodes only (never innerHTML), so markup inside a segment shows as text.
"use strict";

const state = {
  file: "", version: "", units: [],
  edits: new Map(),   // unit index -> {target, status}; what Save sends
  live: new Map(),    // unit index -> row JSON re-checked after an edit
  filter: "all", selected: null, editing: null, saving: false,
};

const FILTERS = {
  all: () => true,
  review: (u) => current(u).status === "draft",
  issues: (u) => row(u).issues.length > 0,
  approved: (u) => current(u).status === "approved",
  rejected: (u) => current(u).status === "rejected",
};

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

function current(u) {
  const e = state.edits.get(u.index);
  return { target: e ? e.target : u.target, status: e ? e.status : u.status };
}

function row(u) { return state.live.get(u.index) || u; }

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

function sourceCell(u) {
  const td = el("td", { class: "src", lang: "id" }, highlighted(u.source, u.source_terms, (s) =>
    el("mark", { class: "term" + (s.ok ? "" : " missing"), title: `${s.id}: English must be “${s.target}”` + (s.ok ? "" : " (missing from the English)") })));
  const tm = tmBlock(u);
  if (tm) td.append(tm);
  return td;
}

// Origin (TM exact / TM fuzzy / MT) and the fuzzy matches: their source with the words that
// differ from this source marked, their English with a button (key t) to take it into the editor.
function tmBlock(u) {
  const t = u.tm;
  if (!t || !t.label) return null;
  const box = el("div", { class: "tm" }, el("span", { class: "origin " + (t.origin || "none"), text: t.label }));
  t.fuzzy.forEach((f, n) => {
    const src = el("div", { class: "fz-src", lang: "id", title: `memory unit ${f.tuid}` });
    for (const [op, text] of f.diff) src.append(op === "=" ? text : el(op === "+" ? "ins" : "del", { text }));
    box.append(el("div", { class: "fuzzy" }, el("span", { class: "score", text: `${f.score}%` }), src,
      el("div", { class: "fz-tgt", lang: "en", text: f.target }),
      el("button", { type: "button", "data-act": "take", "data-fuzzy": String(n), title: "Use this English (t)", text: "use" })));
  });
  return box;
}

function takeFuzzy(index = state.selected, n = 0) {
  if (index === null) return;
  const f = (state.units[index].tm || { fuzzy: [] }).fuzzy[n];
  if (!f) return;
  setEdit(index, f.target, current(state.units[index]).status);
  recheck(index, f.target);
  startEdit(index);
}

function targetCell(u) {
  const cur = current(u);
  const td = el("td", { class: "tgt", lang: "en" });
  if (state.editing === u.index) {
    const ta = el("textarea", { class: "editor", "aria-label": "English translation" });
    ta.value = cur.target;
    td.append(ta);
    return td;
  }
  const r = row(u);
  const spans = r.target === cur.target ? r.target_terms : [];
  td.append(highlighted(cur.target, spans, (s) =>
    el("mark", { class: "term " + s.kind, title: s.kind === "forbidden" ? `${s.id}: forbidden form, use “${s.target}”` : `${s.id}: required “${s.target}”` })));
  return td;
}

function statusCell(u) {
  const cur = current(u);
  return el("td", { class: "st" },
    el("span", { class: "status " + cur.status, text: cur.status }), el("br"),
    el("button", { type: "button", "data-act": "approve", title: "Approve (a)", text: "✓" }),
    el("button", { type: "button", "data-act": "reject", title: "Reject (r)", text: "✗" }),
    el("button", { type: "button", "data-act": "edit", title: "Edit (e)", text: "✎" }));
}

function issuesCell(u) {
  const list = el("ul", { class: "issues" });
  for (const i of row(u).issues) list.append(el("li", { class: i.severity, title: i.check, text: `${i.severity}: ${i.message}` }));
  for (const n of u.notes) list.append(el("li", { class: "note", title: "note from the TMX", text: `note: ${n}` }));
  return el("td", { class: "iss" }, list);
}

function renderRow(u) {
  const tr = el("tr", { "data-index": String(u.index), "data-tuid": u.tuid },
    el("td", { class: "n", text: String(u.index + 1) }), sourceCell(u), targetCell(u), statusCell(u), issuesCell(u));
  if (state.edits.has(u.index)) tr.classList.add("edited");
  if (state.selected === u.index) tr.classList.add("selected");
  return tr;
}

function visible() { return state.units.filter(FILTERS[state.filter]); }

function render() {
  const rows = visible();
  if (state.selected === null || !rows.some((u) => u.index === state.selected)) state.selected = rows.length ? rows[0].index : null;
  tbody().replaceChildren(...rows.map(renderRow));
  $("#empty").hidden = rows.length > 0;
  renderChrome();
}

function rerenderRow(index) {
  const old = tbody().querySelector(`tr[data-index="${index}"]`);
  if (old) old.replaceWith(renderRow(state.units[index]));
  renderChrome();
}

function renderChrome() {
  $("#file").textContent = state.file;
  for (const b of document.querySelectorAll("#filters button")) {
    const f = b.dataset.filter;
    b.classList.toggle("active", f === state.filter);
    b.querySelector(".count").textContent = String(state.units.filter(FILTERS[f]).length);
  }
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
  for (const i of [prev, index]) {
    const tr = i === null ? null : tbody().querySelector(`tr[data-index="${i}"]`);
    if (tr) tr.classList.toggle("selected", i === index);
  }
  if (scroll && index !== null) tbody().querySelector(`tr[data-index="${index}"]`)?.scrollIntoView({ block: "nearest" });
}

function move(step) {
  const rows = visible();
  if (!rows.length) return;
  const at = rows.findIndex((u) => u.index === state.selected);
  const next = Math.max(0, Math.min(rows.length - 1, at < 0 ? 0 : at + step));
  select(rows[next].index);
}

function setEdit(index, target, status) {
  const u = state.units[index];
  if (target === u.target && status === u.status) state.edits.delete(index);
  else state.edits.set(index, { target, status });
}

function startEdit(index = state.selected) {
  if (index === null) return;
  state.editing = index;
  rerenderRow(index);
  const ta = tbody().querySelector(`tr[data-index="${index}"] textarea`);
  ta.focus();
  ta.setSelectionRange(ta.value.length, ta.value.length);
}

function commitEdit() {
  const index = state.editing;
  const ta = tbody().querySelector(`tr[data-index="${index}"] textarea`);
  state.editing = null;
  if (ta) {
    const cur = current(state.units[index]);
    setEdit(index, ta.value, cur.status);
    recheck(index, ta.value);
  }
  rerenderRow(index);
}

function cancelEdit() {
  const index = state.editing;
  state.editing = null;
  rerenderRow(index);
}

function setStatus(status, index = state.selected) {
  if (index === null) return;
  const cur = current(state.units[index]);
  setEdit(index, cur.target, cur.status === status ? state.units[index].status : status);
  rerenderRow(index);
}

async function recheck(index, target) {
  try {
    const res = await api("/api/check", { index, target });
    if (res.ok) {
      const data = await res.json();
      if (current(state.units[index]).target === target) { state.live.set(index, data); rerenderRow(index); }
    }
  } catch (e) { /* the row keeps its old issues; saving re-checks everything */ }
}

function api(path, body) {
  return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

async function save() {
  if (state.editing !== null) commitEdit();
  if (state.saving) return;
  if (!state.edits.size) { message("Nothing to save.", true); return; }
  state.saving = true;
  const edits = [...state.edits].map(([index, e]) => ({ index, tuid: state.units[index].tuid, target: e.target, status: e.status }));
  try {
    const res = await api("/api/save", { version: state.version, edits });
    const data = await res.json();
    if (res.ok) {
      state.edits.clear();
      accept(data);
      message(`Saved ${data.saved} unit${data.saved === 1 ? "" : "s"} to ${data.file} (previous version kept as ${data.file}.bak).`, true);
    } else if (res.status === 409) {
      message(`Not saved: ${data.error}.`, false, { label: "Load the file from disk and re-apply my edits", run: rebase });
    } else {
      message(`Not saved: ${data.error || res.statusText}. Your edits are still in the page.`);
    }
  } catch (e) {
    message(`Not saved: the server did not answer (${e.message}). Your edits are still in the page.`);
  } finally {
    state.saving = false;
    renderChrome();
  }
}

// After a refused save: take the file as it is now and put this page's edits on top.
async function rebase() {
  const data = await (await fetch("/api/units")).json();
  const old = state.units;
  const kept = new Map();
  let lost = 0;
  for (const [index, e] of state.edits) {
    const u = data.units[index];
    if (u && u.tuid === old[index].tuid && u.source === old[index].source) kept.set(index, e);
    else lost++;
  }
  state.edits = kept;
  accept(data);
  for (const [index, e] of kept) setEdit(index, e.target, e.status);
  message(`Loaded the current file and re-applied ${state.edits.size} edit(s)` + (lost ? `; ${lost} no longer match a unit and were dropped` : "") + ". Save again to write them.", !lost);
  render();
}

function accept(data) {
  state.file = data.file;
  state.version = data.version;
  state.units = data.units;
  state.live.clear();
  render();
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
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement) return;
  const keys = {
    j: () => move(1), k: () => move(-1), ArrowDown: () => move(1), ArrowUp: () => move(-1),
    e: () => startEdit(), Enter: () => startEdit(), t: () => takeFuzzy(),
    a: () => { setStatus("approved"); move(1); }, r: () => { setStatus("rejected"); move(1); },
    Escape: () => message(""),
  };
  if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
}

function onClick(ev) {
  const filter = ev.target.closest("#filters button");
  if (filter) { state.filter = filter.dataset.filter; render(); return; }
  const tr = ev.target.closest("tbody tr");
  if (!tr) return;
  const index = Number(tr.dataset.index);
  const act = ev.target.closest("button[data-act]");
  // A click anywhere but the editor keeps the edit first (a button re-renders the row).
  if (state.editing !== null && !ev.target.closest("textarea.editor")) commitEdit();
  if (state.selected !== index) select(index, false);
  if (act) {
    if (act.dataset.act === "edit") startEdit(index);
    else if (act.dataset.act === "take") takeFuzzy(index, Number(act.dataset.fuzzy));
    else setStatus(act.dataset.act === "approve" ? "approved" : "rejected", index);
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
  document.addEventListener("dblclick", onDblClick);
  $("#save").addEventListener("click", save);
  try {
    const res = await fetch("/api/units");
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || res.statusText);
    accept(data);
  } catch (e) {
    message(`Could not load the file: ${e.message}`);
  }
});
