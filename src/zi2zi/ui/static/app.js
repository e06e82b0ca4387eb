// The page: plain JS over the JSON API. State lives on the server; this only shows it.
"use strict";
const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
let project = null;      // the open project's id
let lastJob = "";        // the job state seen last, to refresh the page when a job ends
let selectedGlyph = null;

function say(text, ok = false) {
  const box = $("#message");
  box.textContent = text;
  box.className = ok ? "ok" : "";
  box.hidden = !text;
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
  catch (e) { throw new Error("the app does not answer; is `zi2zi ui` still running?"); }
  const data = await response.json().catch(() => ({}));
  // A destructive action: the app asks, the user answers, and a yes repeats it confirmed.
  if (response.status === 409 && data.confirm && !(body instanceof FormData)) {
    if (!confirm(data.confirm)) throw new Error("cancelled; nothing was changed");
    return api(method, path, { ...(body || {}), confirm: true });
  }
  if (!response.ok) throw new Error(data.error || `the app answered ${response.status}`);
  return data;
}

// Every button action: errors become the message line, never an exception in the console.
function action(fn) {
  return async (event) => {
    if (event) event.preventDefault();
    try { say(""); await fn(event); } catch (e) { say(e.message); }
  };
}

const P = (rest = "") => `/api/projects/${project}${rest}`;
const fileUrl = (folder, name) => `${P()}/file/${folder}/${encodeURIComponent(name)}?t=${Date.now()}`;

function showTab(name) {
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
  $("#charset").value = "gb2312-1";
  $("#gen-charset").value = "gb2312";
  const fonts = await api("GET", "/api/installed-fonts");
  for (const f of fonts) $("#installed-font").add(new Option(f.name, f.id));
}

async function openProject(id) {
  project = id;
  history.replaceState(null, "", `#${id}`);  // a reload (or a restarted app) reopens this project
  await refresh();
  showTab("font");
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

function showProgress(state) {
  const job = state.job || { state: "none" };
  const badge = $("#job-state");
  badge.className = `job ${job.state}`;
  badge.textContent = job.state === "none" ? "no job" : `${job.kind}: ${job.state}`;
  if (job.state === "failed" && job.message && lastJob !== "failed") say(job.message);
  $$(".log").forEach((n) => { n.textContent = (state.log || []).join("\n"); });
  const p = state.progress || {};
  $$(".step").forEach((n) => { n.textContent = p.step ?? 0; });
  $$(".total").forEach((n) => { n.textContent = p.total || "?"; });
  $$(".eta").forEach((n) => { n.textContent = job.state === "running" && job.kind === "finetune" ? fmtTime(p.eta_s) : "–"; });
  $(".training-view .style").textContent = p.started ? `style ${p.style}: ${p.train_glyphs} training glyphs, ${p.holdout_glyphs} held out` : "";
  const bar = $(".training-view .bar");
  bar.max = p.total || 1; bar.value = p.step || 0;
  drawCurves(p.curves || {});
  const table = $(".training-view .metrics");
  table.innerHTML = "";
  if (p.metrics && p.metrics.length) {
    table.insertRow().innerHTML = "<th>metric</th><th>model</th><th>baseline</th><th></th>";
    for (const m of p.metrics) {
      const f = (v) => (typeof v === "number" ? v.toFixed(4) : "–");
      const better = typeof m.model === "number" && typeof m.baseline === "number" &&
        (m.higher_is_better ? m.model > m.baseline : m.model < m.baseline);
      table.insertRow().innerHTML = `<td>${m.name}</td><td>${f(m.model)}</td><td>${f(m.baseline)}</td><td>${better ? "better" : "worse"}</td>`;
    }
  }
  $(".training-view .metrics-step").textContent = p.metrics_step != null ? `(step ${p.metrics_step})` : "";
  const img = $(".training-view .sample");
  if (p.sample && img.dataset.name !== p.sample) { img.src = fileUrl("run/samples", p.sample); img.dataset.name = p.sample; }
}

function drawCurves(curves) {
  const svg = $(".loss-curve");
  const all = Object.values(curves).flat();
  svg.innerHTML = "";
  if (all.length < 2) return;
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || 1, y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (x) => 5 + 390 * (x - x0) / Math.max(1e-9, x1 - x0);
  const sy = (y) => 135 - 130 * (y - y0) / Math.max(1e-9, y1 - y0);
  const colours = { g_loss: "#c33", d_loss: "#36c", l1: "#393" };
  // Fine-tuning few glyphs trains without a discriminator: no D loss, no D in the legend.
  $$(".legend span[data-curve]").forEach((span) => {
    span.hidden = !(curves[span.dataset.curve] || []).length;
  });
  for (const [name, points] of Object.entries(curves)) {
    if (!points.length) continue;
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", colours[name] || "#888");
    line.dataset.curve = name;
    svg.appendChild(line);
  }
}

function showFonts(fonts) {
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
  box.style.fontFamily = $("#preview-font").value ? `"${$("#preview-font").value}", sans-serif` : "";
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
      chars: $("#template-chars").value });
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
  }));
  $("#heldout").addEventListener("click", action(async () => {
    const r = await api("POST", P("/specimen"), { which: "heldout" });
    $("#specimen").src = fileUrl("review", r.file); $("#specimen").hidden = false;
  }));
  $("#generate").addEventListener("click", action(async () => {
    await api("POST", P("/generate"), { mode: $("#gen-mode").value, charset: $("#gen-charset").value, text: $("#gen-text").value });
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
      merge: $("#merge").checked, glyphs: $("#export-glyphs").value });
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
