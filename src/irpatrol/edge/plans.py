"""Patrol plans from the intranet server, and the run (execution) the agent reports back.

The server's REST API (``docs/server.md``): ``GET /api/v1/plans/{id}`` gives the ordered
points with their presets and regions; ``POST /api/v1/plans/{id}/executions`` starts a run
and answers its id, which every capture of the run carries; ``POST
/api/v1/executions/{id}/finish`` ends it and answers the points it missed.  The token needs
the ``captures:write`` scope (``read`` for the plan).

The robot is often offline: a downloaded plan is kept in the outbox folder
(``plan-<id>.json``) and used when the server cannot be reached, and the running execution
(``execution.json``) survives a restart of the agent, so a killed agent resumes the same run.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from irpatrol.diagnosis.points import InspectionPoint, parse_points
from irpatrol.edge.matching import SitePoint
from irpatrol.errors import IrpatrolError

log = logging.getLogger(__name__)

API = "/api/v1"
EXECUTION_FILE = "execution.json"


class PlanServerError(IrpatrolError, ConnectionError):
    """The server could not be reached or refused a plan request; ``status`` is the HTTP status if any."""

    def __init__(self, url: str, detail: str, *, status: int | None = None) -> None:
        self.url = url
        self.status = status
        self.detail = detail
        super().__init__(f"{url}: {detail}")


class PlanClient:
    """A small client of the server's plan and execution endpoints (httpx, bearer token).

    ``http`` replaces the HTTP client (tests pass the server app's ``TestClient``, an
    ``httpx.Client`` too); it is then not closed by :meth:`close`.
    """

    def __init__(
        self, base_url: str, token: str | None, *, timeout_s: float = 10.0, http: Any = None
    ) -> None:
        import httpx  # the edge extra; only the plan download needs it

        self.base_url = base_url.rstrip("/")
        self._httpx = httpx
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._own = http is None
        self._client = http if http is not None else httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        url = f"{self.base_url}{API}{path}"
        try:
            r = self._client.request(method, url, headers=self._headers, **kw)
        except self._httpx.HTTPError as exc:
            raise PlanServerError(url, f"cannot be reached ({exc})") from exc
        if r.status_code >= 400:
            try:
                detail = r.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                detail = r.text[:200]
            raise PlanServerError(url, f"HTTP {r.status_code}: {detail}", status=r.status_code)
        try:
            body = r.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise PlanServerError(url, "the answer is not a JSON object", status=r.status_code)
        return body

    def get_plan(self, plan_id: int) -> dict[str, Any]:
        """The plan with its ordered points (``PlanDetail``)."""
        return self._call("GET", f"/plans/{plan_id}")

    def start_execution(self, plan_id: int, *, executor: str) -> dict[str, Any]:
        """Start a run of the plan (``ExecutionOut``: ``id``, ``status`` …)."""
        return self._call(
            "POST", f"/plans/{plan_id}/executions", json={"executor": executor, "data_source": "robot"}
        )

    def finish_execution(self, execution_id: int) -> dict[str, Any]:
        """Finish the run; the answer lists ``missed`` points and ``counts``."""
        return self._call("POST", f"/executions/{execution_id}/finish")

    def close(self) -> None:
        """Close the HTTP connection pool (not a client given as ``http``)."""
        if self._own:
            self._client.close()


def regions_from_spec(point: dict[str, Any]) -> tuple[InspectionPoint, ...]:
    """The pipeline's point definition from a plan point's ``spec`` (none: automatic mode).

    The same conversion the server's worker makes, so the robot and the server grade alike.
    """
    spec = dict(point.get("spec") or {})
    if not spec.get("phases"):
        return ()
    spec.setdefault("id", point["code"])
    spec.setdefault("device", point.get("name") or point["code"])
    spec.setdefault("part", point.get("part"))
    spec.setdefault("heating_type", point.get("heating_type") or "current")
    spec.pop("images", None)
    text = yaml.safe_dump({"points": [spec]}, allow_unicode=True)
    return parse_points(text, path=f"plan point {point['code']}").points


def plan_points(plan: dict[str, Any]) -> list[SitePoint]:
    """A downloaded plan's points as :class:`SitePoint` (server id, preset, regions)."""
    out = []
    for p in plan.get("points", []):
        out.append(
            SitePoint(
                code=str(p["code"]),
                preset=str(p["preset_id"]) if p.get("preset_id") not in (None, "") else None,
                point_id=int(p["point_id"]) if p.get("point_id") is not None else None,
                regions=regions_from_spec(p),
            )
        )
    return out


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    """Atomically (temporary file, fsync, rename) write a small JSON document."""
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_plan(client: PlanClient | None, plan_id: int, cache_dir: Path) -> dict[str, Any] | None:
    """The plan from the server (cached in ``cache_dir``), else the cached copy, else ``None``."""
    cache = cache_dir / f"plan-{plan_id}.json"
    if client is not None:
        try:
            plan = client.get_plan(plan_id)
        except PlanServerError as exc:
            log.warning("plan %d: %s; using the copy kept on the robot if any", plan_id, exc)
        else:
            _write_json(cache, plan)
            return plan
    try:
        doc = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


@dataclass
class Execution:
    """One run of a plan on this robot: which plan points were captured, which missed.

    ``execution_id`` is the server's id (``None`` while the server has not been reached:
    captures then carry none and the server files them outside any run).
    """

    plan_id: int
    plan_codes: tuple[str, ...]
    execution_id: int | None = None
    covered: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def seen(self, code: str) -> None:
        """Record a capture at point ``code``."""
        with self._lock:
            self.covered.add(code)

    def missed(self) -> list[str]:
        """Plan points with no capture yet, in plan order."""
        with self._lock:
            return [c for c in self.plan_codes if c not in self.covered]

    def save(self, directory: Path) -> None:
        """Keep the run in ``directory`` so a restarted agent resumes it."""
        with self._lock:
            doc = {
                "plan_id": self.plan_id,
                "execution_id": self.execution_id,
                "plan_codes": list(self.plan_codes),
                "covered": sorted(self.covered),
            }
        _write_json(directory / EXECUTION_FILE, doc)


def resume_or_start(
    client: PlanClient | None, plan: dict[str, Any], *, executor: str, state_dir: Path
) -> Execution:
    """The run of ``plan`` kept in ``state_dir`` if it is this plan's, else a new one on the server."""
    plan_id = int(plan["id"])
    codes = tuple(str(p["code"]) for p in plan.get("points", []))
    try:
        doc = json.loads((state_dir / EXECUTION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = None
    if isinstance(doc, dict) and doc.get("plan_id") == plan_id and doc.get("execution_id") is not None:
        ex = Execution(plan_id, codes, int(doc["execution_id"]), set(map(str, doc.get("covered", []))))
        log.info("resuming execution %d of plan %d", ex.execution_id, plan_id)
        return ex
    ex = Execution(plan_id, codes)
    if client is not None:
        try:
            ex.execution_id = int(client.start_execution(plan_id, executor=executor)["id"])
        except (PlanServerError, KeyError, TypeError, ValueError) as exc:
            log.warning("plan %d: could not start an execution on the server (%s)", plan_id, exc)
    ex.save(state_dir)
    return ex


def finish(client: PlanClient | None, ex: Execution, state_dir: Path) -> dict[str, Any]:
    """End the run: tell the server (best effort) and forget the kept state.

    Answers ``{"plan_id", "execution_id", "covered", "missed", "server_missed"}``: the points
    the agent matched no capture to, and those the server counts as missed (``None`` when it
    could not be told).
    """
    server_missed: list[str] | None = None
    if client is not None and ex.execution_id is not None:
        try:
            rep = client.finish_execution(ex.execution_id)
            server_missed = [str(m["code"]) for m in rep.get("missed", [])]
        except (PlanServerError, KeyError, TypeError) as exc:
            log.warning("execution %s: could not report the finish (%s)", ex.execution_id, exc)
    with ex._lock:
        covered = sorted(ex.covered)
    (state_dir / EXECUTION_FILE).unlink(missing_ok=True)
    return {
        "plan_id": ex.plan_id,
        "execution_id": ex.execution_id,
        "covered": covered,
        "missed": ex.missed(),
        "server_missed": server_missed,
    }


def strip_images(points: Iterable[InspectionPoint]) -> tuple[InspectionPoint, ...]:
    """Points without their ``images`` patterns: on the robot the matcher decides which point applies."""
    from dataclasses import replace

    return tuple(replace(p, images=()) for p in points)


__all__ = [
    "EXECUTION_FILE",
    "Execution",
    "PlanClient",
    "PlanServerError",
    "finish",
    "load_plan",
    "plan_points",
    "regions_from_spec",
    "resume_or_start",
    "strip_images",
]
