// A line measurement's temperature profile as a small SVG plot: °C along the line (px).
import { h, svg } from "../ui.js";

/**
 * A <figure> plotting `samples` ([{v}], one per pixel step; NaN breaks the curve) with its
 * max and min marked; `caption` names the line.  Width/height in CSS px of the drawing.
 */
export function profilePlot(samples, { caption, t, width = 320, height = 140 }) {
  const m = { top: 10, right: 10, bottom: 24, left: 44 };
  const w = width - m.left - m.right;
  const hh = height - m.top - m.bottom;
  const vals = samples.map((s) => s.v).filter((v) => v === v);
  const fig = h("figure", { class: "cv-profile", "data-testid": "line-profile" });
  if (!vals.length) {
    fig.append(h("figcaption", {}, caption), h("p", { class: "muted" }, t("capture.profile_empty")));
    return fig;
  }
  let lo = Math.min(...vals);
  let hi = Math.max(...vals);
  if (hi - lo < 0.2) {
    lo -= 0.1;
    hi += 0.1;
  }
  const n = samples.length;
  const xOf = (i) => m.left + (n > 1 ? (i / (n - 1)) * w : w / 2);
  const yOf = (v) => m.top + (1 - (v - lo) / (hi - lo)) * hh;
  const paths = [];
  let d = "";
  samples.forEach((s, i) => {
    if (s.v !== s.v) {
      if (d) paths.push(d);
      d = "";
      return;
    }
    d += `${d ? "L" : "M"}${xOf(i).toFixed(1)},${yOf(s.v).toFixed(1)}`;
  });
  if (d) paths.push(d);
  let iMax = 0;
  let iMin = 0;
  samples.forEach((s, i) => {
    if (s.v !== s.v) return;
    if (!(samples[iMax].v >= s.v)) iMax = i;
    if (!(samples[iMin].v <= s.v)) iMin = i;
  });
  const title = t("capture.profile_title", { caption });
  const plot = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title },
    svg("title", {}, title),
    svg("rect", { x: m.left, y: m.top, width: w, height: hh, class: "cv-profile-frame" }),
    svg("text", { x: m.left - 4, y: m.top + 4, class: "cv-profile-tick", "text-anchor": "end", "dominant-baseline": "hanging" }, hi.toFixed(1)),
    svg("text", { x: m.left - 4, y: m.top + hh, class: "cv-profile-tick", "text-anchor": "end" }, lo.toFixed(1)),
    svg("text", { x: m.left, y: height - 6, class: "cv-profile-tick" }, "0"),
    svg("text", { x: m.left + w, y: height - 6, class: "cv-profile-tick", "text-anchor": "end" }, t("capture.profile_px", { n })),
    svg("text", { x: 4, y: m.top + hh / 2, class: "cv-profile-tick" }, "°C"),
    ...paths.map((p) => svg("path", { d: p, class: "cv-profile-line" })),
    svg("circle", { cx: xOf(iMax), cy: yOf(samples[iMax].v), r: 3, class: "cv-profile-max" }),
    svg("circle", { cx: xOf(iMin), cy: yOf(samples[iMin].v), r: 3, class: "cv-profile-min" }),
  );
  fig.append(plot, h("figcaption", {}, title));
  return fig;
}
