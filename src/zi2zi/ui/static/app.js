// The page: plain JS over the JSON API. State lives on the server; this only shows it, and keeps
// what was typed and chosen per project in localStorage (fields marked data-keep).
"use strict";
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
let project = null;      // the open project's id
let lastJob = "";        // the job state seen last, to refresh the page when a job ends
let selectedGlyph = null;
let banner = null;       // the message shown: {until(state) -> true when its condition is over}
const OK_MESSAGE_MS = 8000;  // a success message goes after this long; an error when its cause does

// A message; `until(state)` (called with each polled project state) says when it no longer holds.
function say(text, ok = false, until = null) {
  const box = $("#message");
  box.textContent = text;
  box.className = ok ? "ok" : "";
  box.hidden = !text;
  const shown = { text, until };
  banner = text ? shown : null;
  if (text && ok) setTimeout(() => { if (banner === shown) say(""); }, OK_MESSAGE_MS);
}

function clearBannerIfOver(state) {
  if (banner && banner.until && banner.until(state)) say("");
}

// Every change goes as JSON (or a form upload): the app refuses other bodies (zi2zi.ui.guard).
async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body instanceof FormData) options.body = body;
  else if (body !== undefined || method !== "GET") {
    options.body = JSON.stringify(body ?? {});
    options.headers["Content-Type"] = "application/json";
  }
  let response;
  try { response = await fetch(path, options); }
  catch (e) {
    const error = new Error("the app does not answer; is `zi2zi ui` still running?");
    error.until = () => true;  // gone at the next answer
    throw error;
  }
  const data = await response.json().catch(() => ({}));
  // A destructive action: the app asks, the user answers, and a yes repeats it confirmed.
  if (response.status === 409 && data.confirm && !(body instanceof FormData)) {
    if (!confirm(data.confirm)) throw new Error("cancelled; nothing was changed");
    return api(method, path, { ...(body || {}), confirm: true });
  }
  if (!response.ok) throw new Error(data.error || `the app answered ${response.status}`);
  return data;
}

// Every button action: errors become the message line, never an exception in the console. The
// button is busy (disabled, with a spinner) until the action answers; one that starts a job stays
// busy while its job runs (markJobButtons).
function action(fn) {
  return async (event) => {
    if (event) event.preventDefault();
    const button = event && event.currentTarget instanceof HTMLButtonElement ? event.currentTarget : null;
    if (button) { button.dataset.pending = "1"; setBusy(button, true); }
    try { say(""); await fn(event); } catch (e) { say(e.message, false, e.until || null); }
    finally {
      if (button) {
        // A job it started keeps it busy until the job ends (the handlers set lastJob on a start).
        if (button.dataset.job && lastJob === "queued" && !["queued", "running"].includes(currentJob.state)) {
          currentJob = { kind: button.dataset.job, state: "queued" };
        }
        button.dataset.pending = "";
        if (button.dataset.job) markJobButtons(); else setBusy(button, false);
      }
    }
  };
}

function setBusy(button, busy) {
  button.disabled = busy;
  button.classList.toggle("busy", busy);
  if (busy) button.setAttribute("aria-busy", "true"); else button.removeAttribute("aria-busy");
}

let currentJob = { state: "none" };
let currentSource = null;  // what the project's run learnt from: "font" or "handwriting"
function markJobButtons() {
  const active = ["queued", "running"].includes(currentJob.state);
  for (const b of $$("button[data-job]")) {
    const mine = active && currentJob.kind === b.dataset.job &&
      (!b.dataset.source || !currentSource || b.dataset.source === currentSource);
    setBusy(b, mine || b.dataset.pending === "1");
  }
}

// ---- what was typed and chosen, per project ----------------------------------------------------

const keepKey = (el) => `zi2zi:${project}:${el.id}`;
function saveField(el) {
  if (!project || !el.id) return;
  try { localStorage.setItem(keepKey(el), el.type === "checkbox" ? (el.checked ? "1" : "0") : el.value); }
  catch (e) { /* storage full or off: the field just is not remembered */ }
}
function restoreFields() {
  for (const el of $$("[data-keep]")) {
    let value = null;
    try { value = localStorage.getItem(keepKey(el)); } catch (e) { value = null; }
    if (value === null) continue;
    if (el.type === "checkbox") el.checked = value === "1";
    else if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === value)) continue;
    else el.value = value;
  }
  applyPreview();
}

const P = (rest = "") => `/api/projects/${project}${rest}`;
const fileUrl = (folder, name) => `${P()}/file/${folder}/${encodeURIComponent(name)}?t=${Date.now()}`;

function showTab(name) {
  if (project && name !== "projects") { try { localStorage.setItem(`zi2zi:${project}:tab`, name); } catch (e) { /* not kept */ } }
  $$(".tab").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  $$("main > section").forEach((s) => { s.hidden = s.id !== `tab-${name}`; });
  if (name === "review") loadGlyphs();
  if (name === "hand") loadHandGrid();
}

async function loadProjects() {
  const list = await api("GET", "/api/projects");
  const ul = $("#project-list");
  ul.innerHTML = "";
  for (const p of list) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.textContent = `Open ${p.name}`;
    b.dataset.project = p.id;
    b.addEventListener("click", action(() => openProject(p.id)));
    li.appendChild(b);
    ul.appendChild(li);
  }
}

async function loadInfo() {
  const info = await api("GET", "/api/info");
  for (const sel of $$(".base-select")) {
    sel.innerHTML = "";
    for (const b of info.bases) sel.add(new Option(b.label, b.id));
  }
  $$(".base-note").forEach((n) => { n.textContent = info.shipped_note; });
  for (const id of ["#charset", "#gen-charset", "#template-charset"]) {
    const sel = $(id);
    for (const [name, description] of Object.entries(info.charsets)) sel.add(new Option(`${name}: ${description}`, name));
  }
  const training = info.training_default;
  $("#charset").value = training.charset;
  $("#train-count").value = training.count;
  $("#training-default-note").textContent = `Default: the first ${training.count} characters of ${training.charset} ` +
    `(${training.about}) that the font has, in code order (阿挨哎唉…): it trained better than an order ` +
    "chosen to cover the most radicals first.";
  $("#gen-charset").value = "gb2312";
  installedFonts = await api("GET", "/api/installed-fonts");
  showInstalled();
  for (const f of installedFonts) $("#punctuation-from").add(new Option(`unchanged from ${f.name} (${f.file})`, `installed:${f.id}`));
}

let installedFonts = [];
// Family and style names, sorted (the server sorts them), narrowed by the filter box.
function showInstalled() {
  const sel = $("#installed-font"), words = $("#installed-filter").value.toLowerCase().split(/\s+/).filter(Boolean);
  const keep = sel.value;
  sel.innerHTML = "";
  const shown = installedFonts.filter((f) => words.every((w) => `${f.name} ${f.file}`.toLowerCase().includes(w)));
  sel.add(new Option(shown.length ? `an installed font… (${shown.length})` : "no installed font matches", ""));
  for (const f of shown) sel.add(new Option(`${f.family} — ${f.style}${f.faces > 1 ? ` (+${f.faces - 1} faces)` : ""}  [${f.file}]`, f.id));
  // A filter picks its first match, unless the font chosen before still matches.
  if (keep && [...sel.options].some((o) => o.value === keep)) sel.value = keep;
  else if (words.length && shown.length) sel.value = String(shown[0].id);
}

async function openProject(id) {
  project = id;
  history.replaceState(null, "", `#${id}`);  // a reload (or a restarted app) reopens this project
  restoreFields();
  await refresh();
  let tab = "font";
  try { tab = localStorage.getItem(`zi2zi:${project}:tab`) || "font"; } catch (e) { tab = "font"; }
  showTab(tab);
}

async function refresh() {
  if (!project) return;
  const state = await api("GET", P());
  $("#current-project").textContent = `project: ${state.name}`;
  showTarget(state.target);
  $$(".base-current").forEach((n) => { n.textContent = state.base ? `base: ${state.base_label}` : "no base chosen yet"; });
  showProgress(state);
  $("#template-pdf").hidden = !state.template;
  if (state.template) $("#template-pdf").href = fileUrl("handwriting/template", "template.pdf");
  $("#hand-count").textContent = state.hand_glyphs;
  $("#hand-variants").textContent = state.hand_variants || 0;
  $("#hand-variants-note").hidden = !state.hand_variants;
  $("#glyph-count").textContent = state.glyphs;
  showFonts(state.fonts);
}

function showTarget(target) {
  const table = $("#coverage");
  table.innerHTML = "";
  if (!target) { $("#target-info").textContent = "no font yet"; return; }
  $("#target-info").textContent = `${target.family} ${target.style} (${target.file}): ${target.code_points} code points`;
  table.insertRow().innerHTML = "<th>charset</th><th>has</th><th>of</th><th>coverage</th>";
  for (const c of target.coverage) {
    const row = table.insertRow();
    row.dataset.charset = c.charset;
    row.innerHTML = `<td>${c.label}</td><td>${c.have}</td><td>${c.total}</td><td>${(100 * c.have / c.total).toFixed(1)}%</td>`;
  }
}

function fmtTime(s) {
  if (s === null || s === undefined) return "–";
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

// "n / total unit · ETA" of the running job, in the section whose job it is (data-kinds).
function showJobCount(job, live) {
  for (const el of $$(".job-count")) {
    const mine = (el.dataset.kinds || "").split(" ").includes(job.kind);
    if (!mine || !live || job.state === "none") { el.textContent = ""; continue; }
    const running = ["queued", "running"].includes(job.state);
    const what = { generate: "generating", regenerate: "generating", export: "tracing", scan: "reading", template: "drawing" }[job.kind] || job.kind;
    el.textContent = running
      ? `${what}: ${live.done} / ${live.total} ${live.unit} · ETA ${fmtTime(live.eta_s)}`
      : `${job.kind} ${job.state}: ${live.done} / ${live.total} ${live.unit}`;
  }
}

function showProgress(state) {
  const job = state.job || { state: "none" };
  const p = state.progress || {};
  currentJob = job;
  currentSource = p.started ? p.source : null;
  markJobButtons();
  const badge = $("#job-state");
  badge.className = `job ${job.state}`;
  badge.textContent = job.state === "none" ? "no job" : `${job.kind}: ${job.state}`;
  badge.dataset.queued = job.queued ?? "";  // which job the badge shows: a new one has a new stamp
  if (job.state === "failed" && job.message && lastJob !== "failed") {
    const failed = job.queued;  // gone once another job starts (or this one is started again)
    say(job.message, false, (s) => (s.job || {}).state !== "failed" || (s.job || {}).queued !== failed);
  }
  clearBannerIfOver(state);
  showJobCount(job, state.job_progress);
  $$(".log").forEach((n) => { n.textContent = (state.log || []).join("\n"); });
  // Each section shows its own training only: the run learnt from a font or from a hand.
  const ofFont = !p.started || p.source === "font", ofHand = p.started && p.source === "handwriting";
  const running = job.state === "running" && job.kind === "finetune";
  $(".training-view .other-run").hidden = ofFont;
  for (const [root, mine] of [[$("#tab-font"), ofFont], [$("#tab-hand"), ofHand]]) {
    $$(".step", root).forEach((n) => { n.textContent = mine ? (p.step ?? 0) : 0; });
    $$(".total", root).forEach((n) => { n.textContent = mine && p.total ? p.total : "?"; });
    $$(".eta", root).forEach((n) => { n.textContent = mine && running ? fmtTime(p.eta_s) : "–"; });
  }
  $("#tab-hand .hand-progress").hidden = !ofHand;
  $("#tab-hand .hand-none").hidden = ofHand;
  $(".training-view .style").textContent = p.started && ofFont ? `style ${p.style}: ${p.train_glyphs} training glyphs, ${p.holdout_glyphs} held out` : "";
  const bar = $(".training-view .bar");
  bar.max = p.total || 1; bar.value = ofFont ? (p.step || 0) : 0;
  drawCurves(ofFont ? (p.curves || {}) : {});
  const table = $(".training-view .metrics");
  table.innerHTML = "";
  $(".training-view .metrics-none").hidden = !!(ofFont && p.metrics && p.metrics.length);
  if (ofFont && p.metrics && p.metrics.length) {
    table.insertRow().innerHTML = "<th>metric</th><th>model</th><th>baseline</th><th></th>";
    for (const m of p.metrics) {
      const f = (v) => (typeof v === "number" ? v.toFixed(4) : "–");
      const better = typeof m.model === "number" && typeof m.baseline === "number" &&
        (m.higher_is_better ? m.model > m.baseline : m.model < m.baseline);
      table.insertRow().innerHTML = `<td>${m.name}</td><td>${f(m.model)}</td><td>${f(m.baseline)}</td><td>${better ? "better" : "worse"}</td>`;
    }
  }
  const info = ofFont && p.metrics_step != null
    ? `(step ${p.metrics_step}, ${p.metrics_quick ? `a quick look at ${p.metrics_characters}` : `all ${p.metrics_characters}`} held-out characters)`
    : "";
  $(".training-view .metrics-step").textContent = info;
  showSample($(".training-view .sample"), $(".training-view .sample-caption"), ofFont ? p.sample : null, p.sample_step,
    "Training glyphs, which the model learns from: source | generated | target",
    "Training glyphs: none drawn yet (the first come a few seconds into training).");
  showSample($(".training-view .heldout-sample"), $(".training-view .heldout-caption"), ofFont ? p.heldout_sample : null,
    p.heldout_sample_step, "Held-out characters, never trained on: source | generated | target",
    p.holdout_glyphs === 0 ? "Held-out characters: none were kept out of this training." : "Held-out characters: none drawn yet.");
}

function showSample(img, caption, name, step, what, none) {
  img.hidden = !name;
  caption.textContent = name ? `${what} (step ${step})` : none;
  if (name && img.dataset.name !== name) { img.src = fileUrl("run/samples", name); img.dataset.name = name; img.alt = what; }
}

// Nice round tick values covering [lo, hi]: 1, 2 or 5 times a power of ten apart.
function ticks(lo, hi, count = 5) {
  const span = Math.max(hi - lo, 1e-12), raw = span / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((k) => span / k <= count) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-6; v += step) out.push(+v.toPrecision(12));
  return out;
}

function fmtValue(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(0) : +v.toPrecision(2) + "";
}

// The losses by step: axes with ticks and values, the latest value of each in the legend, and
// a log scale (default) so that L1 (~0.05) and G loss (~5) both show their course.
function drawCurves(curves) {
  const svg = $(".loss-curve"), ns = "http://www.w3.org/2000/svg";
  const log = $("#log-scale").checked;
  const all = Object.values(curves).flat().filter((p) => !log || p[1] > 0);
  svg.innerHTML = "";
  $$(".legend span[data-curve]").forEach((span) => {
    const points = curves[span.dataset.curve] || [];
    // Fine-tuning few glyphs trains without a discriminator: no D loss, no D in the legend.
    span.hidden = !points.length;
    $(".latest", span).textContent = points.length ? fmtValue(points[points.length - 1][1]) : "";
  });
  if (all.length < 2) return;
  const W = 480, H = 200, L = 48, R = 10, T = 8, B = 30;
  const ty = (v) => (log ? Math.log10(v) : v);
  const xs = all.map((p) => p[0]), ys = all.map((p) => ty(p[1]));
  const x0 = Math.min(...xs), x1 = Math.max(Math.max(...xs), x0 + 1);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 - y0 < 1e-9) { y0 -= 0.5; y1 += 0.5; }
  if (!log) y0 = Math.min(0, y0);
  const sx = (x) => L + (W - L - R) * (x - x0) / (x1 - x0);
  const sy = (y) => H - B - (H - B - T) * (ty(y) - y0) / (y1 - y0);
  const el = (name, attrs, text) => {
    const node = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    svg.appendChild(node);
    return node;
  };
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" });
  el("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" });
  for (const x of ticks(x0, x1, 6)) {
    el("line", { x1: sx(x), y1: H - B, x2: sx(x), y2: H - B + 4, class: "axis" });
    el("text", { x: sx(x), y: H - B + 15, "text-anchor": "middle", class: "tick x-tick" }, String(x));
  }
  el("text", { x: (L + W - R) / 2, y: H - 2, "text-anchor": "middle", class: "tick" }, "step");
  let yticks;
  if (log) {
    yticks = [];
    for (let e = Math.floor(y0); e <= Math.ceil(y1); e++) for (const k of [1, 2, 5]) {
      const v = k * 10 ** e;
      if (Math.log10(v) >= y0 - 1e-9 && Math.log10(v) <= y1 + 1e-9) yticks.push(v);
    }
    if (yticks.length > 7) yticks = yticks.filter((v) => Math.abs(Math.log10(v) % 1) < 1e-9 || yticks.length < 4);
    if (yticks.length < 2) yticks = [10 ** y0, 10 ** y1];
  } else {
    yticks = ticks(y0, y1, 5);
  }
  for (const v of yticks) {
    el("line", { x1: L - 4, y1: sy(v), x2: W - R, y2: sy(v), class: "grid" });
    el("text", { x: L - 6, y: sy(v) + 4, "text-anchor": "end", class: "tick y-tick" }, fmtValue(v));
  }
  const colours = { g_loss: "#c33", d_loss: "#36c", l1: "#393" };
  for (const [name, points] of Object.entries(curves)) {
    const shown = points.filter((p) => !log || p[1] > 0);
    if (!shown.length) continue;
    const line = el("polyline", {
      points: shown.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" "),
      fill: "none", stroke: colours[name] || "#888",
    });
    line.dataset.curve = name;
  }
}

function showFonts(fonts) {
  $("#preview-none").hidden = fonts.length > 0;
  $("#preview-area").hidden = fonts.length === 0;
  const ul = $("#font-list"), sel = $("#preview-font"), styles = [];
  ul.innerHTML = ""; const keep = sel.value; sel.innerHTML = "";
  fonts.forEach((name, i) => {
    const url = fileUrl("fonts", name);
    const li = document.createElement("li");
    li.innerHTML = `<a class="download" download="${name}" href="${url}">${name}</a>`;
    ul.appendChild(li);
    sel.add(new Option(name, `zi2zi-preview-${i}`));
    const format = name.endsWith(".woff2") ? "woff2" : name.endsWith(".otf") ? "opentype" : "truetype";
    styles.push(`@font-face { font-family: "zi2zi-preview-${i}"; src: url("${url}") format("${format}"); }`);
  });
  $("#font-faces").textContent = styles.join("\n");
  if (keep && [...sel.options].some((o) => o.value === keep)) sel.value = keep;
  else if (sel.options.length) sel.value = sel.options[sel.options.length - 1].value;
  applyPreview();
}

function applyPreview() {
  const box = $("#preview");
  box.textContent = $("#preview-text").value;
  // The exported font alone: a character it lacks shows as its .notdef box, not in a system font.
  box.style.fontFamily = $("#preview-font").value ? `"${$("#preview-font").value}", "zi2zi-nothing"` : "";
}

function glyphCell(folder, cell, onClick) {
  const b = document.createElement("button");
  b.className = "cell";
  b.title = cell.char;
  b.dataset.char = cell.char;
  const img = document.createElement("img");
  img.src = fileUrl(folder, cell.file);
  img.alt = cell.char;
  b.appendChild(img);
  b.addEventListener("click", action(() => onClick(b, cell)));
  return b;
}

async function loadGlyphs() {
  if (!project) return;
  const data = await api("GET", P("/glyphs"));
  const grid = $("#glyph-grid");
  grid.innerHTML = "";
  $("#glyph-count").textContent = data.total;
  $("#excluded").textContent = data.excluded || "none";
  for (const cell of data.cells) {
    grid.appendChild(glyphCell(data.folder, cell, (b) => {
      $$("#glyph-grid .cell").forEach((c) => c.classList.remove("selected"));
      b.classList.add("selected");
      selectedGlyph = cell.char;
      $("#selected-glyph").textContent = cell.char;
    }));
  }
}

async function loadHandGrid() {
  if (!project) return;
  const data = await api("GET", P("/glyphs?folder=handwriting"));
  const grid = $("#hand-grid");
  grid.innerHTML = "";
  $("#hand-count").textContent = data.total;
  for (const cell of data.cells) {
    grid.appendChild(glyphCell(data.folder, cell, async (b) => {
      if (!confirm(`Reject ${cell.char}? It will be left out of training until a new photo brings it back.`)) return;
      await api("POST", P("/hand/reject"), { char: cell.char });
      b.remove();
      $("#hand-count").textContent = Number($("#hand-count").textContent) - 1;
      say(`rejected ${cell.char}`, true);
    }));
  }
}

async function upload(path, input, field = "file") {
  const form = new FormData();
  const files = input.files;
  if (!files.length) throw new Error("choose a file first");
  for (const f of files) form.append(field, f);
  return api("POST", path, form);
}

async function poll() {
  if (project && !document.hidden) {
    try {
      const state = await api("GET", P("/progress"));
      showProgress(state);
      const now = state.job.state;
      if (lastJob && lastJob !== now && !["queued", "running"].includes(now)) {
        await refresh();
        if (!$("#tab-review").hidden) await loadGlyphs();
        if (!$("#tab-hand").hidden) await loadHandGrid();
        if (now === "done") say(`${state.job.kind} finished`, true);
        if (now === "stopped") say(state.job.message || "stopped", true);
      }
      lastJob = now;
    } catch (e) { /* the next poll tries again; a dead app says so on the next click */ }
  }
  setTimeout(poll, 1000);
}

function wire() {
  $$(".tab").forEach((b) => b.addEventListener("click", action(async () => {
    if (!project && b.dataset.tab !== "projects") throw new Error("open or create a project first");
    showTab(b.dataset.tab);
  })));
  $("#create-form").addEventListener("submit", action(async () => {
    const p = await api("POST", "/api/projects", { name: $("#project-name").value });
    await loadProjects();
    await openProject(p.id);
    say(`created project ${p.name}`, true);
  }));
  $("#upload-font").addEventListener("click", action(async () => {
    showTarget(await upload(P("/target"), $("#font-file")));
    say("font uploaded", true);
  }));
  $("#pick-installed").addEventListener("click", action(async () => {
    if ($("#installed-font").value === "") throw new Error("choose an installed font first");
    showTarget(await api("POST", P("/installed-font"), { id: Number($("#installed-font").value) }));
  }));
  $$(".use-base").forEach((b) => b.addEventListener("click", action(async () => {
    const sel = $(".base-select", b.closest(".panel"));
    if (!sel.value) throw new Error("there is no base to choose: upload a checkpoint");
    await api("POST", P("/base"), { base: sel.value });
    await refresh();
  })));
  $$(".base-file").forEach((input) => input.addEventListener("change", action(async () => {
    await upload(P("/base-upload"), input);
    await refresh();
  })));
  $$("[data-keep]").forEach((el) => el.addEventListener(el.tagName === "SELECT" || el.type === "checkbox" ? "change" : "input",
    () => saveField(el)));
  $("#installed-filter").addEventListener("input", showInstalled);
  $("#log-scale").addEventListener("change", () => refresh().catch(() => {}));
  $("#start-training").addEventListener("click", action(async () => {
    await api("POST", P("/finetune"), { source: "font", charset: $("#charset").value, count: $("#train-count").value,
      chars: $("#train-chars").value, holdout: $("#holdout").value, steps: $("#steps").value });
    lastJob = "queued";
    say("training started", true);
  }));
  const stop = action(async () => { await api("POST", P("/stop")); say("stopping after this step (a checkpoint is written)", true); });
  $("#stop-training").addEventListener("click", stop);
  $$(".stop-any").forEach((b) => b.addEventListener("click", stop));
  $("#resume-training").addEventListener("click", action(async () => {
    await api("POST", P("/finetune"), { resume: true });
    lastJob = "queued";
    say("training resumed", true);
  }));
  $("#make-template").addEventListener("click", action(async () => {
    await api("POST", P("/template"), { charset: $("#template-charset").value, count: $("#template-count").value,
      chars: $("#template-chars").value, extras: $("#template-extras").checked, variants: $("#template-variants").checked });
    lastJob = "queued";
  }));
  $("#upload-photos").addEventListener("click", action(async () => {
    await upload(P("/photos"), $("#photos"), "files");
    lastJob = "queued";
    say("reading the pages…", true);
  }));
  $("#train-hand").addEventListener("click", action(async () => {
    await api("POST", P("/finetune"), { source: "handwriting", steps: $("#hand-steps").value, holdout: 0 });
    lastJob = "queued";
    say("training started", true);
  }));
  $("#make-specimen").addEventListener("click", action(async () => {
    const r = await api("POST", P("/specimen"), { which: "text", text: $("#specimen-text").value });
    $("#specimen").src = fileUrl("review", r.file); $("#specimen").hidden = false;
    $("#specimen-caption").textContent = "The text, each character generated by the newest checkpoint from the source font.";
  }));
  $("#heldout").addEventListener("click", action(async () => {
    const r = await api("POST", P("/specimen"), { which: "heldout" });
    $("#specimen").src = fileUrl("review", r.file); $("#specimen").hidden = false;
    $("#specimen-caption").textContent = "Held-out characters, never trained on: the model's glyphs beside the target font's.";
  }));
  $("#generate").addEventListener("click", action(async () => {
    await api("POST", P("/generate"), { mode: $("#gen-mode").value, charset: $("#gen-charset").value, text: $("#gen-text").value,
      extras: $("#gen-extras").checked });
    lastJob = "queued";
    say("generating…", true);
  }));
  $("#exclude-glyph").addEventListener("click", action(async () => {
    if (!selectedGlyph) throw new Error("select a glyph first");
    await api("POST", P("/glyphs/exclude"), { char: selectedGlyph });
    selectedGlyph = null; $("#selected-glyph").textContent = "none";
    await loadGlyphs();
  }));
  $("#regenerate-glyph").addEventListener("click", action(async () => {
    if (!selectedGlyph) throw new Error("select a glyph first");
    await api("POST", P("/glyphs/regenerate"), { char: selectedGlyph });
    lastJob = "queued";
  }));
  $("#export").addEventListener("click", action(async () => {
    await api("POST", P("/export"), { format: $("#format").value, family: $("#family").value, style: $("#style").value,
      copyright: $("#copyright").value, licence: $("#licence").value, licence_url: $("#licence-url").value,
      merge: $("#merge").checked, glyphs: $("#export-glyphs").value, punctuation: $("#punctuation-from").value });
    lastJob = "queued";
    say("exporting…", true);
  }));
  $("#preview-text").addEventListener("input", applyPreview);
  $("#preview-font").addEventListener("change", applyPreview);
}

wire();
action(async () => {
  await loadInfo();
  await loadProjects();
  const id = decodeURIComponent(location.hash.slice(1));
  if (id && $(`#project-list button[data-project="${CSS.escape(id)}"]`)) await openProject(id);
})();
poll();
