// Capture viewer (#/captures/{id}): the thermal image from the °C matrix, temperature under
// the pointer, analysis overlays, spot/box/line measurements, recompute with other object
// parameters (server-side, the library's camera model), and the embedded visible photo.
//
// One matrix fetch per parameter set; the canvas is repainted (ImageData, 256-entry table)
// only when the palette, the range or the matrix changes.  Pointer moves touch the readout
// and an SVG cursor, never the pixels.
import { findingMarks, fmtTime, gradeBadge, h, svg } from "../ui.js";
import { LAYERS, analysisLayers, chip, cross } from "../viewer/overlays.js";
import { profilePlot } from "../viewer/profile.js";
import { boxStats, fmtC, lineProfile, lutFor, paint, paintStrip, parseMatrix, pixelFromEvent, valueAt } from "../viewer/thermal.js";

const PARAMS = ["emissivity", "distance_m", "reflected_c", "atmospheric_c", "humidity"];
const TOOLS = ["read", "spot", "box", "line"];
const DEFAULT_PALETTE = "iron";
const PALETTE_KEY = "irpatrol.viewer.palette";

let palettesPromise = null;

/** The palette tables (static/palettes.json, generated from irpatrol.thermal.palettes), fetched once. */
function loadPalettes() {
  if (!palettesPromise) {
    palettesPromise = fetch("/static/palettes.json").then((r) => {
      if (!r.ok) throw new Error(`palettes.json: HTTP ${r.status}`);
      return r.json();
    });
    palettesPromise.catch(() => {
      palettesPromise = null;
    });
  }
  return palettesPromise;
}

/** The page's stylesheet, linked once. */
function ensureStyles() {
  if (!document.querySelector('link[data-page-css="capture"]')) {
    document.head.append(h("link", { rel: "stylesheet", href: "/static/pages/capture.css", "data-page-css": "capture" }));
  }
}

function queryOf(params) {
  const q = new URLSearchParams();
  for (const k of PARAMS) if (params && params[k] !== null && params[k] !== undefined) q.set(k, String(params[k]));
  return q.toString();
}

function errText(ctx, err) {
  return err && err.message ? err.message : String(err);
}

export async function render(root, params, ctx) {
  const { t, api, lang } = ctx;
  ensureStyles();
  const id = Number(params.id);
  const [cap, radiometry, palettes] = await Promise.all([
    api(`/captures/${id}?lang=${lang}`),
    api(`/captures/${id}/radiometry`).catch((err) => ({ error: err })),
    loadPalettes().catch(() => null),
  ]);

  // ------------------------------------------------------------------ state
  const state = {
    matrix: null, // the matrix shown
    fileMatrix: null, // the file's own (kept: a reset needs no fetch)
    applied: null, // parameters of the shown matrix; null = the file's
    palette: palettes && palettes.palettes[localStorage.getItem(PALETTE_KEY)] ? localStorage.getItem(PALETTE_KEY) : DEFAULT_PALETTE,
    range: { auto: true, lo: null, hi: null },
    tool: "read",
    hover: null, // [x, y] last pixel under the pointer or the keyboard cursor
    drag: null, // {kind, start: [x, y], end: [x, y]} while a box or line is drawn
    measures: [], // {n, kind, x0, y0, x1, y1}
    counter: { spot: 0, box: 0, line: 0 },
    visible: Object.fromEntries(LAYERS.map((l) => [l, true])),
    lut: null,
  };
  const rad = radiometry && !radiometry.error ? radiometry : null;

  // ------------------------------------------------------------------ skeleton
  const canvas = h("canvas", {
    class: "cv-canvas",
    "data-testid": "thermal-canvas",
    tabindex: "0",
    role: "img",
    "aria-label": t("capture.canvas_label"),
    "aria-describedby": "cv-keys",
  });
  const overlay = svg("svg", { class: "cv-overlay", "aria-hidden": "true", preserveAspectRatio: "none" });
  const labels = h("div", { class: "cv-labels", "aria-hidden": "true" });
  const stageMsg = h("div", { class: "cv-stage-msg", role: "alert", hidden: true });
  const stage = h("div", { class: "cv-stage" }, canvas, overlay, labels, stageMsg);

  const tempOut = h("output", { class: "cv-readout-temp", "data-testid": "pixel-temp" }, "—");
  const xyOut = h("output", { class: "cv-readout-xy", "data-testid": "pixel-xy" }, "—");
  const readout = h(
    "p",
    { class: "cv-readout", "aria-live": "off" },
    h("span", { class: "cv-readout-label" }, t("capture.temperature")),
    " ",
    tempOut,
    h("span", { class: "cv-unit" }, " °C"),
    h("span", { class: "cv-readout-label cv-sep" }, t("capture.pixel")),
    " ",
    xyOut,
  );
  const paramsBadge = h("span", { class: "cv-params-badge", "data-testid": "params-badge" }, t("capture.params_file"));
  const analysisNote = h("p", { class: "muted small", hidden: true }, t("capture.analysis_note"));

  // scale bar
  const scaleCanvas = h("canvas", { class: "cv-scale-strip", width: 256, height: 1, "aria-hidden": "true" });
  const scaleMin = h("span", { class: "cv-scale-min", "data-testid": "scale-min" }, "—");
  const scaleMax = h("span", { class: "cv-scale-max", "data-testid": "scale-max" }, "—");
  const scaleMid = h("span", { class: "cv-scale-mid" }, "");
  const scale = h(
    "figure",
    { class: "cv-scale", "aria-label": t("capture.scale") },
    scaleCanvas,
    h("figcaption", { class: "cv-scale-labels" }, scaleMin, scaleMid, scaleMax),
  );

  // palette and range
  const paletteNames = palettes ? Object.keys(palettes.palettes) : [];
  const paletteSel = h(
    "select",
    { id: "cv-palette", "data-testid": "palette", disabled: !palettes },
    paletteNames.map((n) => h("option", { value: n, selected: n === state.palette }, t(`capture.palette_${n}`))),
  );
  const autoRadio = h("input", { type: "radio", name: "cv-range", value: "auto", id: "cv-range-auto", checked: true });
  const manualRadio = h("input", { type: "radio", name: "cv-range", value: "manual", id: "cv-range-manual" });
  const loIn = h("input", { type: "number", id: "cv-lo", step: "0.1", disabled: true, "data-testid": "range-min" });
  const hiIn = h("input", { type: "number", id: "cv-hi", step: "0.1", disabled: true, "data-testid": "range-max" });
  const rangeMsg = h("p", { class: "cv-field-error", role: "alert", hidden: true });
  const rangeForm = h(
    "form",
    { class: "cv-range", "aria-label": t("capture.range") },
    h("fieldset", {},
      h("legend", {}, t("capture.range")),
      h("label", { class: "cv-inline" }, autoRadio, " ", t("capture.range_auto")),
      h("label", { class: "cv-inline" }, manualRadio, " ", t("capture.range_manual")),
      h("span", { class: "cv-inline" }, h("label", { for: "cv-lo" }, t("capture.range_min")), loIn),
      h("span", { class: "cv-inline" }, h("label", { for: "cv-hi" }, t("capture.range_max")), hiIn),
      h("button", { type: "submit", "data-testid": "range-apply" }, t("capture.apply"))),
    rangeMsg,
  );

  // overlay toggles
  const toggles = h(
    "fieldset",
    { class: "cv-toggles" },
    h("legend", {}, t("capture.layers")),
    LAYERS.map((l) =>
      h("label", { class: "cv-inline" },
        h("input", { type: "checkbox", checked: true, "data-layer": l, onchange: (e) => setLayer(l, e.target.checked) }),
        " ",
        t(`capture.layer_${l}`))),
  );

  // tools
  const toolButtons = TOOLS.map((tool) =>
    h("button", {
      type: "button",
      class: "cv-tool",
      "data-tool": tool,
      "aria-pressed": tool === state.tool ? "true" : "false",
      title: t(`capture.tool_${tool}_help`),
      onclick: () => setTool(tool),
    }, t(`capture.tool_${tool}`)));
  const clearBtn = h("button", { type: "button", class: "btn-plain", onclick: () => clearMeasures() }, t("capture.clear"));
  const tools = h("div", { class: "cv-tools", role: "group", "aria-label": t("capture.tools") }, toolButtons, clearBtn);
  const keysHelp = h("p", { id: "cv-keys", class: "cv-help muted small" }, t("capture.keys_help"));

  // measurements
  const measureBody = h("tbody", {}, h("tr", {}, h("td", { colspan: 7, class: "empty" }, "—")));
  const measureTable = h(
    "div",
    { class: "table-wrap" },
    h("table", { class: "cv-measures", "data-testid": "measurements" },
      h("caption", { class: "visually-hidden" }, t("capture.measurements")),
      h("thead", {}, h("tr", {},
        ["name", "where", "max", "min", "mean", "max_at", ""].map((k, i) =>
          h("th", { scope: "col", class: i >= 2 && i <= 4 ? "num" : null }, k ? t(`capture.col_${k}`) : h("span", { class: "visually-hidden" }, t("capture.col_actions")))))),
      measureBody),
  );
  const profileBox = h("div", { class: "cv-profile-box" });

  // recompute
  const recompute = recomputeForm();

  // visible photo
  const photo = h("figure", { class: "cv-photo", hidden: true });

  const viewer = h(
    "section",
    { class: "cv-viewer", "data-testid": "thermal-viewer", "data-state": "loading", "aria-label": t("capture.thermal") },
    h("div", { class: "cv-bar" },
      h("div", { class: "field" }, h("label", { for: "cv-palette" }, t("capture.palette")), paletteSel),
      rangeForm),
    stage,
    h("div", { class: "cv-under" }, scale, readout, paramsBadge),
    h("ul", { class: "cv-legend", "aria-label": t("capture.legend") },
      [["hotspots", t("capture.layer_hotspots")], ["regions", t("capture.layer_regions")], ["t1", t("capture.ref_hot")],
        ["t2", t("capture.ref_reference")], ["t0", t("capture.ref_ambient")], ["measure", t("capture.layer_measurements")]]
        .map(([k, text]) => h("li", {}, h("span", { class: `cv-swatch cv-swatch-${k}`, "aria-hidden": "true" }), text))),
    analysisNote,
    tools,
    keysHelp,
    toggles,
  );

  const side = h(
    "div",
    { class: "cv-side" },
    photo,
    h("section", { "aria-labelledby": "cv-measure-h" },
      h("h2", { id: "cv-measure-h" }, t("capture.measurements")),
      measureTable,
      profileBox),
    recompute.section,
  );

  root.append(
    h("p", { class: "cv-back" }, h("a", { href: "#/captures" }, t("capture.back"))),
    h("h1", {}, t("capture.title", { id }), " ", h("span", { class: "cv-filename" }, cap.filename)),
    metaList(cap, ctx),
    h("div", { class: "cv-layout" }, viewer, side),
    findingsSection(cap, ctx),
  );

  // ------------------------------------------------------------------ drawing
  const layers = { measurements: { g: svg("g", { class: "cv-layer cv-layer-measurements" }), labels: [] } };
  let cursorG = svg("g", { class: "cv-cursor" });
  let dragG = svg("g", { class: "cv-drag" });
  const layerLabels = {};

  function setLayer(name, on) {
    state.visible[name] = on;
    if (layers[name]) {
      if (on) layers[name].g.removeAttribute("display");
      else layers[name].g.setAttribute("display", "none");
    }
    if (layerLabels[name]) layerLabels[name].hidden = !on;
  }

  function buildOverlay() {
    const { width, height } = state.matrix;
    overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const analysis = analysisLayers(cap, width, height, t);
    overlay.replaceChildren();
    labels.replaceChildren();
    for (const name of LAYERS) {
      const L = name === "measurements" ? layers.measurements : analysis[name];
      layers[name] = L;
      overlay.append(L.g);
      layerLabels[name] = h("div", { class: `cv-label-layer`, "data-layer": name }, L.labels);
      labels.append(layerLabels[name]);
      setLayer(name, state.visible[name]);
    }
    cursorG = svg("g", { class: "cv-cursor" });
    dragG = svg("g", { class: "cv-drag" });
    overlay.append(dragG, cursorG);
    for (const input of toggles.querySelectorAll("input[data-layer]")) {
      const n = input.dataset.layer;
      const empty = n !== "measurements" && !analysis[n].count;
      input.disabled = empty;
      input.closest("label").classList.toggle("muted", empty);
    }
  }

  function currentRange() {
    const m = state.matrix;
    if (state.range.auto || state.range.lo === null) return [m.min, m.max];
    return [state.range.lo, state.range.hi];
  }

  /** Repaint the image and the scale bar (palette, range or matrix changed). */
  function repaint() {
    const m = state.matrix;
    if (!m || !palettes) return;
    state.lut = lutFor(palettes.palettes[state.palette], palettes.invalid_rgb);
    let [lo, hi] = currentRange();
    if (lo === null) {
      lo = 0;
      hi = 1;
    }
    if (!(hi > lo)) hi = lo + 0.1; // a uniform image still gets a span
    const g = canvas.getContext("2d");
    const img = g.createImageData(m.width, m.height);
    paint(img, m, state.lut, lo, hi);
    g.putImageData(img, 0, 0);
    const sg = scaleCanvas.getContext("2d");
    const strip = sg.createImageData(256, 1);
    paintStrip(strip, state.lut);
    sg.putImageData(strip, 0, 0);
    scaleMin.textContent = `${lo.toFixed(1)} °C`;
    scaleMax.textContent = `${hi.toFixed(1)} °C`;
    scaleMid.textContent = `${((lo + hi) / 2).toFixed(1)}`;
    if (state.range.auto) {
      loIn.value = lo.toFixed(1);
      hiIn.value = hi.toFixed(1);
    }
  }

  function showReading(x, y) {
    state.hover = [x, y];
    const v = valueAt(state.matrix, x, y);
    tempOut.textContent = fmtC(v);
    tempOut.title = v === v ? "" : t("capture.invalid_pixel");
    xyOut.textContent = `${x}, ${y}`;
    const arm = Math.max(state.matrix.width, state.matrix.height) / 60;
    cursorG.replaceChildren(cross(x, y, arm, { class: "cv-cursor-cross" }));
  }

  // ------------------------------------------------------------------ measurements
  function setTool(tool) {
    state.tool = tool;
    state.drag = null;
    dragG.replaceChildren();
    for (const b of toolButtons) b.setAttribute("aria-pressed", b.dataset.tool === tool ? "true" : "false");
    stage.dataset.tool = tool;
  }

  function addMeasure(kind, x0, y0, x1, y1) {
    state.counter[kind]++;
    const prefix = { spot: "P", box: "B", line: "L" }[kind];
    state.measures.push({ n: `${prefix}${state.counter[kind]}`, kind, x0, y0, x1, y1 });
    drawMeasures();
    if (ctx.announce) ctx.announce(t("capture.measure_added", { name: `${prefix}${state.counter[kind]}` }));
  }

  function clearMeasures() {
    state.measures = [];
    state.counter = { spot: 0, box: 0, line: 0 };
    drawMeasures();
  }

  function measureValues(ms) {
    const m = state.matrix;
    if (ms.kind === "spot") {
      const v = valueAt(m, ms.x0, ms.y0);
      return { max: v, min: v, mean: v, maxXY: [ms.x0, ms.y0], where: `${ms.x0}, ${ms.y0}` };
    }
    if (ms.kind === "box") {
      const s = boxStats(m, ms.x0, ms.y0, ms.x1, ms.y1);
      return { ...s, where: `${s.left}, ${s.top} – ${s.right}, ${s.bottom}` };
    }
    const p = lineProfile(m, ms.x0, ms.y0, ms.x1, ms.y1);
    let sum = 0;
    let n = 0;
    for (const s of p.samples) if (s.v === s.v) (sum += s.v), n++;
    return {
      max: p.max ? p.max.v : NaN,
      min: p.min ? p.min.v : NaN,
      mean: n ? sum / n : NaN,
      maxXY: p.max ? [p.max.x, p.max.y] : null,
      samples: p.samples,
      where: `${ms.x0}, ${ms.y0} → ${ms.x1}, ${ms.y1}`,
    };
  }

  function measureShape(ms, cls) {
    if (ms.kind === "spot") return cross(ms.x0, ms.y0, Math.max(state.matrix.width, state.matrix.height) / 70, { class: cls });
    if (ms.kind === "box") {
      const x = Math.min(ms.x0, ms.x1);
      const y = Math.min(ms.y0, ms.y1);
      return svg("rect", { x, y, width: Math.abs(ms.x1 - ms.x0) + 1, height: Math.abs(ms.y1 - ms.y0) + 1, class: cls });
    }
    return svg("line", { x1: ms.x0 + 0.5, y1: ms.y0 + 0.5, x2: ms.x1 + 0.5, y2: ms.y1 + 0.5, class: cls });
  }

  function drawMeasures() {
    if (!state.matrix) return;
    const { width, height } = state.matrix;
    const L = layers.measurements;
    L.g.replaceChildren();
    const chips = [];
    const rows = [];
    let lastLine = null;
    for (const ms of state.measures) {
      const v = measureValues(ms);
      L.g.append(measureShape(ms, "cv-measure"));
      if (v.maxXY && ms.kind !== "spot") L.g.append(cross(v.maxXY[0], v.maxXY[1], Math.max(width, height) / 90, { class: "cv-measure-max" }));
      chips.push(chip(`${ms.n} ${fmtC(v.max)} °C`, Math.min(ms.x0, ms.x1), Math.min(ms.y0, ms.y1), width, height, "measure"));
      if (ms.kind === "line") lastLine = [ms, v];
      const del = h("button", {
        type: "button",
        class: "btn-plain cv-del",
        "aria-label": t("capture.delete_measure", { name: ms.n }),
        onclick: () => {
          state.measures = state.measures.filter((x) => x !== ms);
          drawMeasures();
        },
      }, "×");
      rows.push(h("tr", { "data-testid": "measure-row", "data-kind": ms.kind, "data-name": ms.n },
        h("th", { scope: "row" }, `${ms.n} · ${t(`capture.kind_${ms.kind}`)}`),
        h("td", { "data-field": "where" }, v.where),
        h("td", { class: "num", "data-field": "max" }, fmtC(v.max)),
        h("td", { class: "num", "data-field": "min" }, ms.kind === "spot" ? "" : fmtC(v.min)),
        h("td", { class: "num", "data-field": "mean" }, ms.kind === "spot" ? "" : fmtC(v.mean)),
        h("td", { "data-field": "max_at" }, v.maxXY && ms.kind !== "spot" ? `${v.maxXY[0]}, ${v.maxXY[1]}` : ""),
        h("td", {}, del)));
    }
    if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: 7, class: "empty" }, t("capture.no_measurements"))));
    measureBody.replaceChildren(...rows);
    if (layerLabels.measurements) layerLabels.measurements.replaceChildren(...chips);
    profileBox.replaceChildren(lastLine ? profilePlot(lastLine[1].samples, { caption: lastLine[0].n, t }) : "");
  }

  function dragShape() {
    dragG.replaceChildren();
    if (!state.drag || !state.drag.end) return;
    const d = state.drag;
    dragG.append(measureShape({ kind: d.kind, x0: d.start[0], y0: d.start[1], x1: d.end[0], y1: d.end[1] }, "cv-measure cv-measure-drag"));
  }

  // ------------------------------------------------------------------ pointer and keyboard
  const pixelOf = (e) => pixelFromEvent(e, canvas.getBoundingClientRect(), state.matrix);

  canvas.addEventListener("pointermove", (e) => {
    if (!state.matrix) return;
    const [x, y] = pixelOf(e);
    showReading(x, y);
    if (state.drag && state.drag.pointer) {
      state.drag.end = [x, y];
      dragShape();
    }
  });
  canvas.addEventListener("pointerdown", (e) => {
    if (!state.matrix || e.button !== 0) return;
    const [x, y] = pixelOf(e);
    if (state.tool === "spot") {
      addMeasure("spot", x, y, x, y);
    } else if (state.tool === "box" || state.tool === "line") {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      state.drag = { kind: state.tool, start: [x, y], end: [x, y], pointer: true };
      dragShape();
    }
  });
  const endDrag = (e) => {
    if (!state.drag || !state.drag.pointer) return;
    const d = state.drag;
    const [x, y] = pixelOf(e);
    state.drag = null;
    dragG.replaceChildren();
    addMeasure(d.kind, d.start[0], d.start[1], x, y);
  };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", () => {
    state.drag = null;
    dragG.replaceChildren();
  });
  canvas.addEventListener("keydown", (e) => {
    if (!state.matrix) return;
    const step = e.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    let [x, y] = state.hover || [Math.floor(state.matrix.width / 2), Math.floor(state.matrix.height / 2)];
    if (moves[e.key]) {
      e.preventDefault();
      x = Math.min(state.matrix.width - 1, Math.max(0, x + moves[e.key][0]));
      y = Math.min(state.matrix.height - 1, Math.max(0, y + moves[e.key][1]));
      showReading(x, y);
      if (state.drag) {
        state.drag.end = [x, y];
        dragShape();
      }
      announceReading();
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      showReading(x, y);
      if (state.tool === "spot") addMeasure("spot", x, y, x, y);
      else if (state.tool === "box" || state.tool === "line") {
        if (!state.drag) {
          state.drag = { kind: state.tool, start: [x, y], end: [x, y], pointer: false };
          dragShape();
        } else {
          const d = state.drag;
          state.drag = null;
          dragG.replaceChildren();
          addMeasure(d.kind, d.start[0], d.start[1], x, y);
        }
      }
    } else if (e.key === "Escape" && state.drag) {
      state.drag = null;
      dragG.replaceChildren();
    }
  });
  let announceTimer = null;
  function announceReading() {
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      if (ctx.announce) ctx.announce(`${xyOut.textContent}: ${tempOut.textContent} °C`);
    }, 400);
  }
  canvas.addEventListener("focus", () => {
    if (state.matrix && !state.hover) showReading(Math.floor(state.matrix.width / 2), Math.floor(state.matrix.height / 2));
  });

  // ------------------------------------------------------------------ palette and range controls
  paletteSel.addEventListener("change", () => {
    state.palette = paletteSel.value;
    try {
      localStorage.setItem(PALETTE_KEY, state.palette);
    } catch {
      /* private mode: the choice lasts for this page only */
    }
    repaint();
  });
  const onRangeMode = () => {
    const manual = manualRadio.checked;
    loIn.disabled = hiIn.disabled = !manual;
    rangeMsg.hidden = true;
    if (!manual) {
      state.range = { auto: true, lo: null, hi: null };
      repaint();
    }
  };
  autoRadio.addEventListener("change", onRangeMode);
  manualRadio.addEventListener("change", onRangeMode);
  rangeForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!manualRadio.checked) return;
    const lo = Number.parseFloat(loIn.value);
    const hi = Number.parseFloat(hiIn.value);
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
      rangeMsg.textContent = t("capture.range_invalid");
      rangeMsg.hidden = false;
      return;
    }
    rangeMsg.hidden = true;
    state.range = { auto: false, lo, hi };
    repaint();
  });

  // ------------------------------------------------------------------ the matrix
  async function loadMatrix(p) {
    const q = queryOf(p);
    viewer.dataset.state = "loading";
    viewer.setAttribute("aria-busy", "true");
    try {
      const { buffer, headers } = await ctx.apiBinary(`/captures/${id}/matrix${q ? "?" + q : ""}`);
      return parseMatrix(buffer, headers);
    } finally {
      viewer.removeAttribute("aria-busy");
    }
  }

  function useMatrix(m, applied) {
    const first = !state.matrix;
    state.matrix = m;
    state.applied = applied;
    canvas.width = m.width;
    canvas.height = m.height;
    stage.style.setProperty("--cv-aspect", `${m.width} / ${m.height}`);
    stage.dataset.size = `${m.width}x${m.height}`;
    if (first) buildOverlay();
    repaint();
    drawMeasures();
    if (state.hover) showReading(state.hover[0], state.hover[1]);
    paramsBadge.textContent = applied ? t("capture.params_recomputed", { params: describe(applied) }) : t("capture.params_file");
    paramsBadge.classList.toggle("cv-recomputed", Boolean(applied));
    analysisNote.hidden = !applied;
    viewer.dataset.params = applied ? queryOf(applied) : "";
    viewer.dataset.state = "ready";
    stageMsg.hidden = true;
  }

  function describe(p) {
    const parts = [];
    if (p.emissivity !== undefined) parts.push(`ε ${p.emissivity}`);
    if (p.distance_m !== undefined) parts.push(`${p.distance_m} m`);
    if (p.reflected_c !== undefined) parts.push(`${t("capture.short_reflected")} ${p.reflected_c} °C`);
    if (p.atmospheric_c !== undefined) parts.push(`${t("capture.short_atmospheric")} ${p.atmospheric_c} °C`);
    if (p.humidity !== undefined) parts.push(`RH ${Math.round(p.humidity * 1000) / 10} %`);
    return parts.join(", ");
  }

  function matrixFailed(err) {
    const text = t("capture.matrix_failed", { message: errText(ctx, err) });
    stageMsg.textContent = text;
    stageMsg.hidden = false;
    viewer.dataset.state = "error";
    return text;
  }

  // ------------------------------------------------------------------ recompute
  function recomputeForm() {
    const p = (rad && rad.parameters) || {};
    const ranges = (rad && rad.ranges) || {};
    const adjustable = Boolean(rad && rad.adjustable);
    const inputs = {};
    const fields = [
      ["emissivity", "0.01", 1],
      ["distance_m", "0.1", 1],
      ["reflected_c", "0.1", 1],
      ["atmospheric_c", "0.1", 1],
      ["humidity", "1", 100], // shown in %, sent as a fraction
    ];
    const rows = fields.map(([name, step, factor]) => {
      const r = ranges[name];
      const value = p[name] === null || p[name] === undefined ? "" : Math.round(p[name] * factor * 10000) / 10000;
      const input = h("input", {
        type: "number",
        id: `cv-p-${name}`,
        name,
        step,
        min: r ? r[0] * factor : null,
        max: r ? r[1] * factor : null,
        value,
        disabled: !adjustable || !r,
        inputmode: "decimal",
      });
      inputs[name] = { input, factor, original: value };
      return h("div", { class: "field" }, h("label", { for: `cv-p-${name}` }, t(`capture.param_${name}`)), input,
        r ? h("span", { class: "muted small" }, `${r[0] * factor} – ${r[1] * factor}`) : null);
    });
    const msg = h("p", { class: "cv-field-error", role: "alert", hidden: true });
    const status = h("p", { class: "muted small", "data-testid": "recompute-status" });
    const apply = h("button", { type: "submit", "data-testid": "recompute-apply", disabled: !adjustable }, t("capture.recompute_apply"));
    const reset = h("button", { type: "button", class: "btn-plain", disabled: !adjustable }, t("capture.recompute_reset"));
    const form = h("form", { class: "cv-recompute", novalidate: true }, rows, h("div", { class: "field-actions" }, apply, reset), msg, status);
    const note = rad
      ? adjustable
        ? t("capture.recompute_note")
        : t("capture.recompute_not_adjustable")
      : t("capture.recompute_unavailable", { message: errText(ctx, radiometry && radiometry.error) });

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      msg.hidden = true;
      for (const { input } of Object.values(inputs)) input.removeAttribute("aria-invalid");
      const chosen = {};
      let same = true;
      for (const [name, { input, factor, original }] of Object.entries(inputs)) {
        if (input.disabled || input.value === "") continue;
        const v = Number.parseFloat(input.value);
        const r = ranges[name];
        if (!Number.isFinite(v) || (r && (v < r[0] * factor || v > r[1] * factor))) {
          msg.textContent = t("capture.param_out_of_range", {
            name: t(`capture.param_${name}`),
            min: r ? r[0] * factor : "?",
            max: r ? r[1] * factor : "?",
          });
          msg.hidden = false;
          input.setAttribute("aria-invalid", "true");
          input.focus();
          return;
        }
        chosen[name] = v / factor;
        if (String(v) !== String(original)) same = false;
      }
      if (same) {
        restoreFile();
        return;
      }
      apply.disabled = true;
      status.textContent = t("capture.recomputing");
      try {
        const m = await loadMatrix(chosen);
        useMatrix(m, chosen);
        status.textContent = t("capture.recomputed");
      } catch (err) {
        // the image stays as it was; say why
        msg.textContent = t("capture.recompute_failed", { message: errText(ctx, err) });
        msg.hidden = false;
        status.textContent = "";
        if (state.matrix) viewer.dataset.state = "ready";
        else matrixFailed(err);
      } finally {
        apply.disabled = false;
      }
    });

    function restoreFile() {
      for (const { input, original } of Object.values(inputs)) input.value = original;
      msg.hidden = true;
      if (state.fileMatrix) {
        useMatrix(state.fileMatrix, null);
        status.textContent = t("capture.recompute_reset_done");
      }
    }
    reset.addEventListener("click", restoreFile);

    const section = h(
      "section",
      { "aria-labelledby": "cv-recompute-h", class: "cv-recompute-section" },
      h("h2", { id: "cv-recompute-h" }, t("capture.recompute")),
      h("p", { class: "muted small" }, note),
      form,
    );
    return { section };
  }

  // ------------------------------------------------------------------ load
  try {
    if (!palettes) throw new Error(t("capture.palettes_failed"));
    const m = await loadMatrix(null);
    state.fileMatrix = m;
    useMatrix(m, null);
  } catch (err) {
    if (err && err.handled) throw err; // a 401: the shell is on its way to the login page
    const text = matrixFailed(err);
    for (const el of [paletteSel, ...rangeForm.elements, ...toolButtons]) el.disabled = true;
    ctx.showError(text);
  }

  if (rad && rad.has_visible) {
    ctx.apiBlob(`/captures/${id}/visible`).then(
      (blob) => {
        const url = URL.createObjectURL(blob);
        const img = h("img", { src: url, alt: t("capture.photo_alt", { name: cap.filename }), "data-testid": "visible-photo" });
        img.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
        photo.replaceChildren(img, h("figcaption", {}, t("capture.photo")));
        photo.hidden = false;
      },
      (err) => {
        photo.replaceChildren(h("p", { class: "muted small" }, t("capture.photo_failed", { message: errText(ctx, err) })));
        photo.hidden = false;
      },
    );
  }
}

function metaList(cap, ctx) {
  const { t, lang } = ctx;
  const camera = [cap.camera_make, cap.camera_model].filter(Boolean).join(" ") || "—";
  const items = [
    [t("capture.status"), t(`capture.status_${cap.status}`)],
    [t("capture.taken_at"), fmtTime(cap.taken_at, lang)],
    [t("capture.camera"), camera],
    [t("capture.format"), cap.format_name || "—"],
    [t("capture.size"), cap.width && cap.height ? `${cap.width} × ${cap.height}` : "—"],
    [t("capture.min_max"), cap.min_c !== null && cap.max_c !== null ? `${fmtC(cap.min_c)} / ${fmtC(cap.max_c)} °C` : "—"],
    [t("capture.ambient"), cap.ambient_c !== null && cap.ambient_c !== undefined ? `${fmtC(cap.ambient_c)} °C` : "—"],
  ];
  if (cap.distance_m !== null && cap.distance_m !== undefined) items.push([t("capture.distance"), `${cap.distance_m} m`]);
  if (cap.point_id) items.push([t("capture.point"), h("a", { href: `#/points/${cap.point_id}` }, `#${cap.point_id}`)]);
  if (cap.execution_id) items.push([t("capture.execution"), h("a", { href: `#/executions/${cap.execution_id}` }, `#${cap.execution_id}`)]);
  if (cap.error) items.push([t("capture.error"), cap.error]);
  return h("dl", { class: "cv-meta" }, items.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
}

function findingsSection(cap, ctx) {
  const { t } = ctx;
  const items = (cap.findings || []).map((f) => {
    const c = (f.facts && f.facts.comparison) || {};
    const temps = [
      f.t1_c !== null ? `T1 ${fmtC(f.t1_c)} °C` : null,
      f.t2_c !== null ? `T2 ${fmtC(f.t2_c)} °C` : null,
      f.t0_c !== null ? `T0 ${fmtC(f.t0_c)} °C` : null,
      f.delta_t_k !== null ? `ΔT ${fmtC(f.delta_t_k)} K` : null,
      f.delta_pct !== null ? `δ ${fmtC(f.delta_pct)} %` : null,
    ].filter(Boolean);
    return h("li", { class: "cv-finding", "data-testid": "finding" },
      h("p", { class: "cv-finding-head" },
        gradeBadge(f.grade, t), " ",
        findingMarks(f, t, "capture"), " ",
        h("strong", {}, f.subject), " ",
        h("span", { class: "muted" }, [f.device, f.part].filter(Boolean).join(" · ")),
        c.hot ? h("span", { class: "muted small" }, ` — ${t("capture.ref_hot")}: ${c.hot}${c.reference ? `, ${t("capture.ref_reference")}: ${c.reference}` : ""}`) : null),
      h("p", { class: "cv-finding-temps" }, temps.join(" · ")),
      f.explanation ? h("p", { class: "small" }, f.explanation) : null);
  });
  return h(
    "section",
    { "aria-labelledby": "cv-findings-h", class: "cv-findings" },
    h("h2", { id: "cv-findings-h" }, t("capture.findings")),
    items.length ? h("ul", { class: "cv-finding-list" }, items) : h("p", { class: "muted" }, t("capture.no_findings")),
  );
}
