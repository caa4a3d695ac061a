// The capture viewer's arithmetic on the °C matrix: decoding, colouring, reading, measuring.
//
// Temperatures are never computed here: the matrix comes from the API (the library's camera
// model, recomputed server-side for other object parameters).  This module only reads it:
// pixel values, box and line statistics, and the palette colouring, which mirrors
// irpatrol.thermal.palettes.apply_palette (256-entry table, values clipped to the span,
// invalid pixels in the table's invalid colour).

/**
 * The matrix from `GET /captures/{id}/matrix`: little-endian float32, row-major, °C.
 * Returns {width, height, data: Float32Array, min, max, minXY, maxXY, nValid}; min/max over
 * finite values only (NaN marks invalid pixels), null when no pixel is valid.
 */
export function parseMatrix(buffer, headers) {
  const width = Number(headers.get("X-Width"));
  const height = Number(headers.get("X-Height"));
  if (!(width > 0 && height > 0) || buffer.byteLength !== width * height * 4) {
    throw new Error(`matrix of ${buffer.byteLength} bytes does not match ${width}x${height} float32`);
  }
  let data;
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) {
    data = new Float32Array(buffer); // little-endian host: the bytes are the values
  } else {
    const view = new DataView(buffer);
    data = new Float32Array(width * height);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
  }
  return { width, height, data, ...extremes(data, width) };
}

function extremes(data, width) {
  let min = Infinity;
  let max = -Infinity;
  let iMin = -1;
  let iMax = -1;
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== v) continue; // NaN: invalid pixel
    n++;
    if (v < min) {
      min = v;
      iMin = i;
    }
    if (v > max) {
      max = v;
      iMax = i;
    }
  }
  if (!n) return { min: null, max: null, minXY: null, maxXY: null, nValid: 0 };
  return {
    min,
    max,
    minXY: [iMin % width, Math.floor(iMin / width)],
    maxXY: [iMax % width, Math.floor(iMax / width)],
    nValid: n,
  };
}

/** A palette's flat [r,g,b,...] (256 entries) as a Uint32Array of ABGR pixels for ImageData. */
export function lutFor(flatRgb, invalidRgb) {
  const lut = new Uint32Array(257);
  const put = (i, r, g, b) => {
    lut[i] = (255 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA in memory
  };
  for (let i = 0; i < 256; i++) put(i, flatRgb[3 * i], flatRgb[3 * i + 1], flatRgb[3 * i + 2]);
  put(256, invalidRgb[0], invalidRgb[1], invalidRgb[2]);
  return lut;
}

/**
 * Colour the matrix into `imageData` (same size): index = clip((v - lo) / (hi - lo) × 255, 0, 255)
 * truncated, as the library does; NaN pixels get the invalid colour (lut[256]).
 */
export function paint(imageData, matrix, lut, lo, hi) {
  const out = new Uint32Array(imageData.data.buffer);
  const src = matrix.data;
  const span = hi > lo ? hi - lo : Infinity;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v !== v) {
      out[i] = lut[256];
      continue;
    }
    // divide first: the span's top (v = hi) is then exactly 255, the table's last colour
    let s = ((v - lo) / span) * 255;
    s = s < 0 ? 0 : s > 255 ? 255 : s;
    out[i] = lut[s | 0];
  }
}

/** The palette as a 256×1 strip (for the scale bar). */
export function paintStrip(imageData, lut) {
  const out = new Uint32Array(imageData.data.buffer);
  for (let i = 0; i < 256; i++) out[i] = lut[i];
}

/** The matrix value (°C, float32 as a Number; NaN when invalid) at column x, row y. */
export function valueAt(matrix, x, y) {
  return matrix.data[y * matrix.width + x];
}

/**
 * Mouse position → matrix pixel, exactly: floor(offset × size / displayed size), clamped.
 * `rect` is the canvas's getBoundingClientRect() (the canvas has no border or padding).
 */
export function pixelFromEvent(event, rect, matrix) {
  const ox = event.clientX - rect.left;
  const oy = event.clientY - rect.top;
  const x = Math.floor((ox * matrix.width) / rect.width);
  const y = Math.floor((oy * matrix.height) / rect.height);
  return [clamp(x, 0, matrix.width - 1), clamp(y, 0, matrix.height - 1)];
}

function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Max/min/mean (°C) over the pixels x0..x1, y0..y1 (both corners included, any order),
 * with where the max and min are; invalid pixels left out (`n` counts the valid ones).
 */
export function boxStats(matrix, x0, y0, x1, y1) {
  const left = Math.min(x0, x1);
  const right = Math.max(x0, x1);
  const top = Math.min(y0, y1);
  const bottom = Math.max(y0, y1);
  let max = -Infinity;
  let min = Infinity;
  let sum = 0;
  let n = 0;
  let maxXY = null;
  let minXY = null;
  for (let y = top; y <= bottom; y++) {
    const row = y * matrix.width;
    for (let x = left; x <= right; x++) {
      const v = matrix.data[row + x];
      if (v !== v) continue;
      n++;
      sum += v;
      if (v > max) {
        max = v;
        maxXY = [x, y];
      }
      if (v < min) {
        min = v;
        minXY = [x, y];
      }
    }
  }
  return {
    left,
    top,
    right,
    bottom,
    n,
    max: n ? max : NaN,
    min: n ? min : NaN,
    mean: n ? sum / n : NaN,
    maxXY,
    minXY,
  };
}

/** Round half to even, as NumPy's rint (so a line samples the pixels the library's Line does). */
function rint(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The pixels along a segment, one per pixel step without repeats (irpatrol.thermal.measure.Line),
 * each {x, y, v} with its value; and max/min with their positions over the valid ones.
 */
export function lineProfile(matrix, x0, y0, x1, y1) {
  const n = Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))) + 1;
  const samples = [];
  let px = null;
  let py = null;
  for (let i = 0; i < n; i++) {
    const f = n === 1 ? 0 : i / (n - 1);
    const x = rint(x0 + (x1 - x0) * f);
    const y = rint(y0 + (y1 - y0) * f);
    if (x === px && y === py) continue;
    px = x;
    py = y;
    samples.push({ x, y, v: valueAt(matrix, x, y) });
  }
  let max = null;
  let min = null;
  for (const s of samples) {
    if (s.v !== s.v) continue;
    if (max === null || s.v > max.v) max = s;
    if (min === null || s.v < min.v) min = s;
  }
  return { samples, max, min };
}

/** °C with one decimal ("—" for an invalid pixel). */
export function fmtC(v) {
  return v === null || v === undefined || v !== v ? "—" : v.toFixed(1);
}
