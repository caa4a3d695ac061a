"""Benchmark: recall of injected heating defects on real frames (hot-spot ranking quality).

Run:  .venv/bin/python benchmarks/bench_recall.py [--trials N] [--seed S] [--dji-refs]

For every real frame of the shared samples that irpatrol reads (the FLIR R-JPEGs, the
DJI Zenmuse XT R which is a FLIR core, and every frame of the SC660 SEQ), a synthetic
heating defect is added to the °C matrix: a Gaussian of amplitude ``A`` K (uniform in
5..25 K) and standard deviation ``σ`` px (uniform in 2..5 px) centred on a *structure*
pixel.  One defect per trial, on a fresh copy of the frame; the RNG is seeded, so the
figures are reproducible.  DJI R-JPEGs (APP3/APP4) need the optional ``dji`` back-end
(Python 3.12, ``scripts/test-dji.sh``), which matches the reference matrices to 0.0000 °C
(BENCHMARKS.md, issue 10); they are skipped here, with a note, and ``--dji-refs`` adds their
°C matrices from the shared reference folder (dji-thermal-cli) as a separate, labelled set.
Report the figures of two seeds (``--seed``): one the detector was studied on, one held out.

Structure pixels (where a defect may be injected) are chosen by the benchmark itself, not
by the code under test: valid pixels at least ``3σ`` from the border that are not in the
coldest 10 % of the frame, and, for the DJI reference frames, in the hand-marked sky band
(rows above the horizon, see ``_SKY_ROWS``) only pixels more than 3 K warmer than their
row's median (the sky): equipment standing in front of the sky.

A defect is *found at rank k* when the k-th reported hot spot has its peak within
``2σ + 1`` px of the injected centre.  Two ranks are reported:

* **rank** (the headline figure): spots above the defect are not counted when the
  unmodified frame already has a spot there (peak within 5 px) whose ``excess_k`` (peak
  over its ring, the same measure before and after #13) is at least the injected
  amplitude — a real heating stronger than the defect rightly comes first (the T640
  fuses are +40..60 K);
* **plain rank** among all reported spots.

50 spots are asked for so that a defect behind stronger real spots still gets a rank.
Reported: recall in the top 1 and top 3 per amplitude band, the rank distribution, and
the number of spots (at most 10) reported on the unmodified frames (a false-alarm
proxy: every one of those competes with a real defect).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from irpatrol.diagnosis.hotspots import HotSpot, find_hotspots
from irpatrol.formats import open_thermal

THERMAL = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "thermal"
FLIR_FILES = (
    "flir_t640_fuses.jpg",
    "flir_e40.jpg",
    "flir_ax8.jpg",
    "flir_c2_afci_breakers.jpg",
    "flir_b60_building.jpg",
    "dji_zenmuse_xtr.jpg",
    "flir_sc660_sample.seq",
)
DJI_FILES = ("dji_m2ea_substation.jpg", "dji_m4t_tower.jpg", "dji_h20t_rooftop.jpg", "dji_m30t_640.jpg")
_SKY_ROWS = {"dji_m2ea_substation.jpg": 270, "dji_m4t_tower.jpg": 210}
"""Rows above which the frame shows sky behind the structure (hand-marked on the renders)."""
BANDS = ((5.0, 10.0), (10.0, 15.0), (15.0, 20.0), (20.0, 25.0))
RANK_BINS = ("1", "2", "3", "4-10", "missed")
MAX_SPOTS = 50
"""Spots asked for, so that a defect behind stronger real spots still gets a rank."""


@dataclass(frozen=True)
class Frame:
    """One real frame: a label, °C matrix and validity mask."""

    label: str
    celsius: npt.NDArray[np.float32]
    valid: npt.NDArray[np.bool_]
    sky_rows: int = 0


def load_frames(*, dji_refs: bool) -> tuple[list[Frame], list[str]]:
    """The frames to test on, and notes on what was skipped."""
    frames: list[Frame] = []
    notes: list[str] = []
    for name in FLIR_FILES:
        path = THERMAL / name
        if not path.exists():
            notes.append(f"{name}: absent")
            continue
        for i, fr in enumerate(open_thermal(path).frames()):
            tg = fr.thermogram()
            label = name if name.endswith(".jpg") else f"{name}#{i}"
            frames.append(Frame(label, tg.celsius.astype(np.float32), tg.valid & np.isfinite(tg.celsius)))
    for name in DJI_FILES:
        ref = THERMAL / "refs" / f"{name}.temp_c.npy"
        if dji_refs and ref.exists():
            t = np.load(ref).astype(np.float32)
            frames.append(Frame(f"{name} (ref °C)", t, np.isfinite(t), _SKY_ROWS.get(name, 0)))
        else:
            notes.append(f"{name}: DJI R-JPEG, read by the optional dji back-end only; skipped")
    return frames, notes


def structure_pixels(frame: Frame, sigma_px: float) -> npt.NDArray[np.intp]:
    """Flat indices where a defect of width ``sigma_px`` may be centred (see module doc)."""
    t, v = frame.celsius, frame.valid
    ok = v.copy()
    m = math.ceil(3 * sigma_px)
    ok[:m] = ok[-m:] = False
    ok[:, :m] = ok[:, -m:] = False
    ok &= t > np.percentile(t[v], 10)
    if frame.sky_rows:
        band = t[: frame.sky_rows]
        row_median = np.nanmedian(np.where(v[: frame.sky_rows], band, np.nan), axis=1, keepdims=True)
        ok[: frame.sky_rows] &= band > row_median + 3.0
    return np.flatnonzero(ok)


def inject(
    t: npt.NDArray[np.float32], cy: int, cx: int, amp_k: float, sigma_px: float
) -> npt.NDArray[np.float32]:
    """A copy of ``t`` with a Gaussian of ``amp_k`` K, ``sigma_px`` px added at ``(cy, cx)``."""
    out = t.copy()
    r = math.ceil(4 * sigma_px)
    r0, r1 = max(cy - r, 0), min(cy + r + 1, t.shape[0])
    c0, c1 = max(cx - r, 0), min(cx + r + 1, t.shape[1])
    yy, xx = np.mgrid[r0:r1, c0:c1]
    g = amp_k * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma_px**2))
    out[r0:r1, c0:c1] += g.astype(np.float32)
    return out


def rank_of(
    spots: Sequence[HotSpot], cy: int, cx: int, radius: float, stronger: Sequence[tuple[int, int]] = ()
) -> int | None:
    """Rank (1-based) of the first spot whose peak is within ``radius`` px, else None.

    Spots above it that stand where the unmodified frame already has a spot at least as
    strong as the injected defect (``stronger``: peak ``(x, y)``, within 5 px) are not
    counted: a real heating stronger than the defect rightly comes first.
    """
    rank = 0
    for s in spots:
        x, y = s.peak_xy
        if (x - cx) ** 2 + (y - cy) ** 2 <= radius**2:
            return rank + 1
        if not any((x - sx) ** 2 + (y - sy) ** 2 <= 25 for sx, sy in stronger):
            rank += 1
    return None


@dataclass(frozen=True)
class Trial:
    """One injected defect: where (row ``cy``, column ``cx``), how strong (K) and wide (px),
    the spots reported on the modified frame and the defect's headline rank (``None``: missed)."""

    cy: int
    cx: int
    amp: float
    sigma: float
    spots: list[HotSpot]
    stronger: list[tuple[int, int]]
    rank: int | None


def one_trial(fr: Frame, clean: Sequence[HotSpot], rng: np.random.RandomState) -> Trial:
    """Draw a defect from ``rng`` (amplitude, width, then site: this order fixes the seeded
    sequence), inject it into ``fr`` and rank it among the spots found; ``clean`` are the
    unmodified frame's spots."""
    amp = float(rng.uniform(5.0, 25.0))
    sigma = float(rng.uniform(2.0, 5.0))
    sites = structure_pixels(fr, sigma)
    idx = int(sites[rng.randint(sites.size)])
    cy, cx = divmod(idx, fr.celsius.shape[1])
    t = inject(fr.celsius, cy, cx, amp, sigma)
    spots = list(find_hotspots(t, valid=fr.valid, max_spots=MAX_SPOTS).spots)
    stronger = [s.peak_xy for s in clean if s.excess_k >= amp]
    return Trial(cy, cx, amp, sigma, spots, stronger, rank_of(spots, cy, cx, 2 * sigma + 1, stronger))


def run(frames: list[Frame], *, trials: int, seed: int) -> dict[str, Any]:
    """Inject ``trials`` defects per frame; per band: counts of each rank bin."""
    rng = np.random.RandomState(seed)
    by_band: dict[tuple[float, float], Counter[str]] = {b: Counter() for b in BANDS}
    plain_band: dict[tuple[float, float], Counter[str]] = {b: Counter() for b in BANDS}
    by_frame: dict[str, Counter[str]] = {}
    plain_frame: dict[str, Counter[str]] = {}
    clean: dict[str, int] = {}

    def key(rank: int | None) -> str:
        return "missed" if rank is None else (str(rank) if rank <= 3 else "4-10")

    for fr in frames:
        res = find_hotspots(fr.celsius, valid=fr.valid, max_spots=MAX_SPOTS)
        clean[fr.label] = min(len(res.spots), 10)
        by_frame[fr.label] = Counter()
        plain_frame[fr.label] = Counter()
        for _ in range(trials):
            tr = one_trial(fr, res.spots, rng)
            amp = tr.amp
            band = next(b for b in BANDS if b[0] <= amp < b[1] or (b[1] == 25.0 and amp == 25.0))
            k_adj = key(tr.rank)
            k_plain = key(rank_of(tr.spots, tr.cy, tr.cx, 2 * tr.sigma + 1))
            by_band[band][k_adj] += 1
            by_frame[fr.label][k_adj] += 1
            plain_band[band][k_plain] += 1
            plain_frame[fr.label][k_plain] += 1
    return {
        "bands": by_band,
        "frames": by_frame,
        "plain_bands": plain_band,
        "plain_frames": plain_frame,
        "clean": clean,
    }


def _pct(c: Counter[str], top: int) -> float:
    n = sum(c.values())
    hit = sum(c[k] for k in RANK_BINS[:top])
    return 100.0 * hit / n if n else math.nan


def _band_table(bands: dict[tuple[float, float], Counter[str]]) -> None:
    print("| amplitude | n | top 1 % | top 3 % | rank 1 / 2 / 3 / 4-10 / missed |")
    print("|---|---|---|---|---|")
    total: Counter[str] = Counter()
    ge10: Counter[str] = Counter()
    for (lo, hi), c in bands.items():
        total += c
        if lo >= 10:
            ge10 += c
        ranks = " / ".join(str(c[k]) for k in RANK_BINS)
        print(
            f"| +{lo:.0f}..{hi:.0f} K | {sum(c.values())} | {_pct(c, 1):.1f} | {_pct(c, 3):.1f} | {ranks} |"
        )
    for label, c in (("+10..25 K", ge10), ("+5..25 K (all)", total)):
        ranks = " / ".join(str(c[k]) for k in RANK_BINS)
        print(f"| **{label}** | {sum(c.values())} | {_pct(c, 1):.1f} | {_pct(c, 3):.1f} | {ranks} |")


def report(title: str, result: dict[str, Any]) -> None:
    """Print markdown tables: per band (both rank counts), per frame, clean-frame spot counts."""
    print(f"\n### {title}\n")
    print("Rank not counting real spots of the unmodified frame at least as strong as the defect:\n")
    _band_table(result["bands"])
    print("\nPlain rank among all reported spots:\n")
    _band_table(result["plain_bands"])
    print("\n| frame | spots on the unmodified frame | top 1 % | top 3 % | plain top 3 % |")
    print("|---|---|---|---|---|")
    for label, c in result["frames"].items():
        p = result["plain_frames"][label]
        print(
            f"| {label} | {result['clean'][label]} | {_pct(c, 1):.1f} | {_pct(c, 3):.1f} | {_pct(p, 3):.1f} |"
        )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--trials", type=int, default=200, help="defects per frame (default 200)")
    ap.add_argument("--seed", type=int, default=13, help="RNG seed (default 13)")
    ap.add_argument(
        "--dji-refs", action="store_true", help="add the DJI °C matrices from refs/ as a second set"
    )
    args = ap.parse_args(argv)
    if not THERMAL.is_dir():
        print(f"samples folder {THERMAL} is absent", file=sys.stderr)
        return 2
    frames, notes = load_frames(dji_refs=args.dji_refs)
    for n in notes:
        print(f"note: {n}")
    own = [f for f in frames if "(ref" not in f.label]
    report(
        f"Frames read by irpatrol ({len(own)}), {args.trials} defects each, seed {args.seed}",
        run(own, trials=args.trials, seed=args.seed),
    )
    refs = [f for f in frames if "(ref" in f.label]
    if refs:
        report(
            f"DJI reference °C matrices ({len(refs)}), {args.trials} defects each, seed {args.seed}",
            run(refs, trials=args.trials, seed=args.seed),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
