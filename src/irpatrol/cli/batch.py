"""Run a per-file job over many files on all cores, with a progress bar; never stop at a bad file.

A job is a picklable function ``job(path) -> dict``; library errors inside it
become a failed :class:`JobResult` carrying the one-line message, and the batch
goes on.  Results come back in input order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from irpatrol.cli.app import ExitStatus
from irpatrol.errors import IrpatrolError


@dataclass(frozen=True)
class JobResult:
    """What one file's job produced: ``data`` on success, the ``error`` message otherwise."""

    path: str
    data: dict[str, Any] | None
    error: str | None

    @property
    def ok(self) -> bool:
        """True when the job succeeded."""
        return self.error is None


class _Guarded:
    """Picklable wrapper that turns library errors into failed results."""

    def __init__(self, job: Callable[[Path], dict[str, Any]]) -> None:
        self.job = job

    def __call__(self, path: Path) -> JobResult:
        try:
            return JobResult(str(path), self.job(path), None)
        except IrpatrolError as exc:
            return JobResult(str(path), None, str(exc))
        except Exception as exc:  # a bug: report it against the file and let the batch go on
            detail = f"{type(exc).__name__}: {exc}"
            return JobResult(str(path), None, f"{path}: internal error, please report it: {detail}")


def frame_bar(path: Path, enabled: bool) -> tqdm[Any]:
    """A progress bar over the frames of one sequence, on stderr when it is a terminal.

    Shown only when ``enabled`` (one input file with a frame selection: with many files
    the per-file bar of :func:`run_batch` is the one to watch) and stderr is a terminal,
    so pipes and logs get no control characters.
    """
    return tqdm(desc=path.name, unit="frame", disable=not (enabled and sys.stderr.isatty()), file=sys.stderr)


def default_workers() -> int:
    """One worker per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def run_batch(
    job: Callable[[Path], dict[str, Any]],
    files: list[Path],
    *,
    workers: int = 0,
    progress: bool = True,
    desc: str = "images",
) -> list[JobResult]:
    """Run ``job`` on every file; ``workers`` 0 means one per core, 1 runs in this process."""
    guarded = _Guarded(job)
    n_workers = min(workers or default_workers(), max(1, len(files)))
    show = progress and len(files) > 1 and sys.stderr.isatty()
    bar = tqdm(total=len(files), desc=desc, unit="img", disable=not show, file=sys.stderr)
    results: list[JobResult] = []
    try:
        if n_workers <= 1:
            for path in files:
                results.append(guarded(path))
                bar.update()
        else:
            chunk = max(1, len(files) // (n_workers * 8))
            with ProcessPoolExecutor(max_workers=n_workers) as pool:
                for result in pool.map(guarded, files, chunksize=chunk):
                    results.append(result)
                    bar.update()
    finally:
        bar.close()
    return results


def report_failures(results: list[JobResult]) -> int:
    """Print failed files to stderr (one line alone, or a list after a batch); return the exit status.

    A file read only in part (its data lists ``damaged`` frames) makes the status
    ``PARTIAL`` too, with a warning per damaged frame.
    """
    failed = [r for r in results if not r.ok]
    damaged = [d for r in results if r.data is not None for d in r.data.get("damaged", ())]
    for d in damaged:  # a file read in part: its damaged frames
        click.echo(f"irpatrol: warning: {d['error']}", err=True)
    if not failed:
        return int(ExitStatus.PARTIAL if damaged else ExitStatus.SUCCESS)
    if len(results) == 1:
        click.echo(f"irpatrol: error: {failed[0].error}", err=True)
        return int(ExitStatus.BAD_INPUT)
    click.echo(f"irpatrol: {len(failed)} of {len(results)} files failed:", err=True)
    for r in failed:
        click.echo(f"  {r.error}", err=True)
    return int(ExitStatus.PARTIAL)
