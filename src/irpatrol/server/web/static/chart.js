// A time-series line chart in SVG: time on x, a left axis and an optional right axis, legend.
import { h, svg } from "./ui.js";

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^n). */
export function niceTicks(lo, hi, count = 5) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const ticks = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  if (ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

function extent(values) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * series: [{label, unit, axis: "left"|"right", color, dash?, points: [{t: Date, v: number|null}]}]
 * axes: {left: "°C", right: "%"}; returns a <figure> with the SVG and an HTML legend.
 */
export function timeChart({ series, axes, title, lang, width = 760, height = 320 }) {
  const m = { top: 16, right: axes.right ? 56 : 16, bottom: 40, left: 56 };
  const w = width - m.left - m.right;
  const hgt = height - m.top - m.bottom;
  const all = series.flatMap((s) => s.points.filter((p) => p.v !== null && p.v !== undefined));
  const [t0, t1] = extent(all.map((p) => p.t.getTime()));
  const span = t1 > t0 ? t1 - t0 : 3600_000;
  const tLo = t1 > t0 ? t0 : t0 - span / 2;
  const x = (t) => m.left + ((t.getTime() - tLo) / span) * w;

  const scale = {};
  for (const side of ["left", "right"]) {
    const vals = series.filter((s) => s.axis === side).flatMap((s) => s.points.map((p) => p.v)).filter((v) => v !== null && v !== undefined);
    if (!vals.length) continue;
    const [lo, hi] = extent(vals);
    const ticks = niceTicks(Math.min(lo, side === "right" ? 0 : lo), hi, 5);
    const a = ticks[0];
    const b = ticks[ticks.length - 1];
    scale[side] = { ticks, y: (v) => m.top + hgt - ((v - a) / (b - a || 1)) * hgt };
  }

  const g = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart",
    role: "img",
    "aria-labelledby": "chart-title",
    preserveAspectRatio: "xMidYMid meet",
  });
  g.append(svg("title", { id: "chart-title" }, title));

  // grid and y axes
  for (const side of ["left", "right"]) {
    const s = scale[side];
    if (!s) continue;
    const xAxis = side === "left" ? m.left : m.left + w;
    g.append(svg("line", { x1: xAxis, x2: xAxis, y1: m.top, y2: m.top + hgt, class: "axis" }));
    for (const v of s.ticks) {
      const y = s.y(v);
      if (side === "left") g.append(svg("line", { x1: m.left, x2: m.left + w, y1: y, y2: y, class: "grid" }));
      g.append(svg("text", {
        x: side === "left" ? xAxis - 6 : xAxis + 6,
        y: y + 4,
        "text-anchor": side === "left" ? "end" : "start",
        class: "tick",
      }, String(v)));
    }
    g.append(svg("text", {
      x: side === "left" ? 12 : width - 12,
      y: m.top + hgt / 2,
      transform: `rotate(${side === "left" ? -90 : 90} ${side === "left" ? 12 : width - 12} ${m.top + hgt / 2})`,
      "text-anchor": "middle",
      class: "axis-label",
    }, axes[side]));
  }

  // time axis
  g.append(svg("line", { x1: m.left, x2: m.left + w, y1: m.top + hgt, y2: m.top + hgt, class: "axis" }));
  const nT = Math.max(2, Math.min(6, Math.floor(w / 120)));
  const sameDay = span < 86_400_000 * 2;
  for (let i = 0; i <= nT; i++) {
    const t = new Date(tLo + (span * i) / nT);
    const xx = x(t);
    g.append(svg("line", { x1: xx, x2: xx, y1: m.top + hgt, y2: m.top + hgt + 5, class: "axis" }));
    const label = t.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB",
      sameDay ? { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false } : { year: "numeric", month: "2-digit", day: "2-digit" });
    g.append(svg("text", { x: xx, y: m.top + hgt + 20, "text-anchor": i === 0 ? "start" : i === nT ? "end" : "middle", class: "tick" }, label));
  }

  // lines and points
  for (const s of series) {
    const sc = scale[s.axis];
    if (!sc) continue;
    const pts = s.points.filter((p) => p.v !== null && p.v !== undefined);
    if (!pts.length) continue;
    const d = pts.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${sc.y(p.v).toFixed(1)}`).join(" ");
    g.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dash || null }));
    for (const p of pts) {
      const c = svg("circle", { cx: x(p.t).toFixed(1), cy: sc.y(p.v).toFixed(1), r: 3, fill: s.color });
      c.append(svg("title", {}, `${s.label}: ${p.v.toFixed(1)} ${s.unit} (${p.t.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB")})`));
      g.append(c);
    }
  }

  const shown = series.filter((s) => s.points.some((p) => p.v !== null && p.v !== undefined));
  const legend = h("ul", { class: "legend" },
    shown.map((s) => h("li", {},
      h("span", { class: "swatch", style: `background:${s.color}`, "aria-hidden": "true" }),
      `${s.label} (${s.unit})`)));
  return h("figure", { class: "chart-figure" }, g, h("figcaption", {}, legend));
}
