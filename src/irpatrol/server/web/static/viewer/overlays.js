// Overlays of the capture viewer: what the analysis stored, drawn over the thermal image.
//
// Shapes go into an SVG whose viewBox is the matrix (1 unit = 1 pixel, x = column, y = row,
// pixel (x, y) covering [x, x+1) × [y, y+1)); strokes do not scale with the zoom.  Labels are
// HTML chips placed in percent of the image, so they keep a readable size at any zoom.
//
// Sources (the pipeline's JSON, kept on the capture): `measurements.hotspots` (rank, peak
// x/y, bbox [left, top, right, bottom) exclusive, peak_c), `measurements.regions` (point,
// name, shape {type: box|polygon|ellipse|line|spot, ...} in px, max_c, max_xy), and per
// finding `facts.comparison` naming the hot part (T1), its reference (T2: a phase region
// or "spot N") and the ambient region (T0).
import { h, svg } from "../ui.js";

/** The layers a user can switch, in display order. */
export const LAYERS = ["hotspots", "regions", "reference", "measurements"];

const SPOT_RE = /^spot (\d+)$/;

/** An SVG shape for a pipeline region shape (px), or null for an unknown type. */
export function shapeElement(shape, attrs) {
  switch (shape.type) {
    case "box":
      return svg("rect", { x: shape.left, y: shape.top, width: shape.right - shape.left, height: shape.bottom - shape.top, ...attrs });
    case "polygon":
      return svg("polygon", { points: shape.vertices.map((v) => `${v[0]},${v[1]}`).join(" "), ...attrs });
    case "ellipse":
      return svg("ellipse", {
        cx: shape.cx,
        cy: shape.cy,
        rx: shape.rx,
        ry: shape.ry,
        transform: shape.angle_deg ? `rotate(${shape.angle_deg} ${shape.cx} ${shape.cy})` : null,
        ...attrs,
      });
    case "line":
      return svg("line", { x1: shape.x0 + 0.5, y1: shape.y0 + 0.5, x2: shape.x1 + 0.5, y2: shape.y1 + 0.5, ...attrs });
    case "spot":
      return svg("rect", { x: shape.x, y: shape.y, width: 1, height: 1, ...attrs });
    default:
      return null;
  }
}

/** Where a shape's label goes (px): its top-left corner, or its first point. */
function anchorOf(shape) {
  switch (shape.type) {
    case "box":
      return [shape.left, shape.top];
    case "polygon":
      return [Math.min(...shape.vertices.map((v) => v[0])), Math.min(...shape.vertices.map((v) => v[1]))];
    case "ellipse":
      return [shape.cx - shape.rx, shape.cy - shape.ry];
    case "line":
      return [Math.min(shape.x0, shape.x1), Math.min(shape.y0, shape.y1)];
    case "spot":
      return [shape.x, shape.y];
    default:
      return [0, 0];
  }
}

function bboxShape(b) {
  return { type: "box", left: b[0], top: b[1], right: b[2], bottom: b[3] };
}

/** A cross marking pixel (x, y), arms `arm` px long. */
export function cross(x, y, arm, attrs) {
  const cx = x + 0.5;
  const cy = y + 0.5;
  return svg(
    "g",
    attrs,
    svg("line", { x1: cx - arm, y1: cy, x2: cx + arm, y2: cy }),
    svg("line", { x1: cx, y1: cy - arm, x2: cx, y2: cy + arm }),
  );
}

/** A label chip at (x, y) px of a `width`×`height` image (`title`: the long form, optional). */
export function chip(text, x, y, width, height, kind, title) {
  return h(
    "span",
    {
      class: `cv-chip cv-chip-${kind}`,
      title,
      style: `left:${((x / width) * 100).toFixed(3)}%;top:${((y / height) * 100).toFixed(3)}%`,
    },
    text,
  );
}

/**
 * Build the analysis layers for a capture: {hotspots, regions, reference} each
 * {g: <g>, labels: [chips]} — and `count` of drawn items per layer.
 */
export function analysisLayers(cap, width, height, t) {
  const m = cap.measurements || {};
  const arm = Math.max(width, height) / 90;
  const layers = {};
  for (const name of ["hotspots", "regions", "reference"]) {
    layers[name] = { g: svg("g", { class: `cv-layer cv-layer-${name}`, "data-layer": name }), labels: [], count: 0 };
  }

  const spots = new Map();
  for (const s of m.hotspots || []) {
    spots.set(s.rank, s);
    const L = layers.hotspots;
    if (Array.isArray(s.bbox)) L.g.append(shapeElement(bboxShape(s.bbox), { class: "cv-hot-box" }));
    L.g.append(cross(s.x, s.y, arm, { class: "cv-hot-peak" }));
    L.labels.push(chip(`S${s.rank} ${fmt1(s.peak_c)}°`, s.x + 1, s.y + 1, width, height, "hotspots"));
    L.count++;
  }

  const regions = m.regions || [];
  const points = new Set(regions.map((r) => r.point));
  for (const r of regions) {
    const el = shapeElement(r.shape, { class: "cv-region" });
    if (!el) continue;
    const L = layers.regions;
    L.g.append(el);
    if (Array.isArray(r.max_xy)) L.g.append(cross(r.max_xy[0], r.max_xy[1], arm * 0.7, { class: "cv-region-max" }));
    const [ax, ay] = anchorOf(r.shape);
    const name = points.size > 1 ? `${r.point} ${r.name}` : r.name;
    L.labels.push(chip(`${name} ${fmt1(r.max_c)}°`, ax, ay, width, height, "regions", `${name}: ${t("capture.max_short")} ${fmt1(r.max_c)} °C`));
    L.count++;
  }

  // the reference layer: per finding, its hot part (T1), reference (T2) and ambient (T0)
  const findShape = (subject, label) => {
    if (!label) return null;
    const sm = SPOT_RE.exec(label);
    if (sm) {
      const s = spots.get(Number(sm[1]));
      return s && Array.isArray(s.bbox) ? bboxShape(s.bbox) : null;
    }
    const r = regions.find((x) => x.name === label && (x.point === subject || points.size <= 1));
    return r ? r.shape : null;
  };
  const seen = new Set();
  for (const f of cap.findings || []) {
    const facts = f.facts || {};
    const c = facts.comparison || {};
    const subject = facts.subject || f.subject;
    const roles = [
      ["t1", c.hot, t("capture.ref_hot")],
      ["t2", c.reference, t("capture.ref_reference")],
      ["t0", c.ambient_source === "region" ? "ambient" : null, t("capture.ref_ambient")],
    ];
    for (const [role, label, text] of roles) {
      const shape = findShape(subject, label);
      const key = `${subject}|${role}|${label}`;
      if (!shape || seen.has(key)) continue;
      seen.add(key);
      const L = layers.reference;
      const el = shapeElement(shape, { class: `cv-ref cv-ref-${role}` });
      if (!el) continue;
      L.g.append(el);
      // a short tag under the shape's middle (the legend says what T1/T2/T0 are)
      const [cx, bottom] = shape.type === "box" ? [(shape.left + shape.right) / 2, shape.bottom] : anchorOf(shape);
      L.labels.push(chip(role.toUpperCase(), cx, bottom, width, height, `ref-${role}`, `${text} (${label})`));
      L.count++;
    }
  }
  return layers;
}

function fmt1(v) {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(1) : "—";
}
