"""trialsim from Python: the Rust engine of the `trialsim` command line, as functions.

    import trialsim
    r = trialsim.run("scenarios/astis.toml", reps=2000, seed=1)
    r.summary["tests"]["logrank"]["power"]   # summary.json as a dict
    r.tests                                  # one row per test (a pandas DataFrame)
    r.write("results/astis_py")              # the command line's files

A scenario is a path, TOML text or a dict of the same tables. Every function releases the GIL
while it simulates, stops on Ctrl-C (KeyboardInterrupt; nothing is returned or written), and
shows a progress bar in a terminal or notebook when tqdm is installed (``progress=False`` hides
it). A bad scenario or argument raises ``trialsim.ScenarioError`` with the command line's
message (file or ``<string>``, line, column, key) and ``file``, ``line``, ``column``, ``key``
attributes. Tables are pandas DataFrames when pandas is installed, else lists of dicts.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import _trialsim
from ._trialsim import ScenarioError

__all__ = ["run", "sweep", "plan", "assurance", "truth", "ScenarioError", "ENGINE"]
__version__ = "0.1.0"
ENGINE = _trialsim.ENGINE

def _pandas():
    """pandas when installed (imported on the first table asked for: it takes longer to import
    than a small simulation takes to run), else None: every table is then a list of dicts."""
    try:
        import pandas
    except ImportError:
        return None
    return pandas


# ---------------------------------------------------------------------------------------------
# Input


def _source(scenario: Any) -> tuple[str, str]:
    """(TOML text, the name errors give it) of a path, TOML text or dict."""
    if isinstance(scenario, Mapping):
        try:
            text = json.dumps(scenario, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ScenarioError(f"<dict>: cannot be a scenario: {e}") from None
        return _trialsim.toml_of_json(text), "<dict>"
    if isinstance(scenario, os.PathLike):
        return _trialsim.read_scenario(os.fspath(scenario)), os.fspath(scenario)
    if isinstance(scenario, str):
        # A path is one line naming a file (or ending in .toml: then a missing file is said so);
        # anything else is TOML text.
        if "\n" not in scenario and (scenario.endswith(".toml") or os.path.isfile(scenario)):
            return _trialsim.read_scenario(scenario), scenario
        return scenario, "<string>"
    raise ScenarioError(
        f"scenario: expected a path, TOML text or a dict, found {type(scenario).__name__}"
    )


def _count(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{name}: expected an integer, found {value!r}")
    if not -(2**63) <= value < 2**63:
        raise ScenarioError(f"{name}: expected an integer below 2^63, found {value}")
    return value


def _overrides(overrides: Mapping[str, float] | None) -> list[tuple[str, float]]:
    out = []
    for key, value in (overrides or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(f"overrides: `{key}`: expected a number, found {value!r}")
        if not math.isfinite(value):
            raise ScenarioError(f"overrides: `{key}`: expected a finite number, found {value!r}")
        out.append((str(key), float(value)))
    return out


def _axes(set: Mapping[str, Any] | Sequence[str] | None) -> list[str]:
    """`KEY=VALUES` items, as on the command line, from a dict (values a list or a
    `LOW:HIGH:STEP` string) or a list of such strings."""
    if set is None:
        return []
    if isinstance(set, str):
        return [set]
    if isinstance(set, Mapping):
        items = []
        for key, values in set.items():
            if isinstance(values, str):
                items.append(f"{key}={values}")
            elif isinstance(values, Iterable):
                items.append(f"{key}=" + ",".join(repr(float(v)) for v in values))
            else:
                items.append(f"{key}={float(values)!r}")
        return items
    return [str(s) for s in set]


class _Progress:
    """A tqdm bar (terminal or notebook) fed by the engine's (done, total) reports."""

    def __init__(self, enabled: bool, what: str):
        self.bar = None
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        unit = {"sweep": " trials", "assurance": " draws", "plan": " grid points"}.get(what, " trials")
        self.bar = tqdm(total=0, desc=what, unit=unit, leave=False, dynamic_ncols=True)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            return
        if self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def callback(self):
        return self if self.bar is not None else None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _progress(progress: bool | None, what: str) -> _Progress:
    shown = sys.stderr.isatty() or "ipykernel" in sys.modules if progress is None else progress
    return _Progress(bool(shown), what)


# ---------------------------------------------------------------------------------------------
# Output


def _frame(rows: list[dict]):
    pd = _pandas()
    return pd.DataFrame(rows) if pd is not None else rows


def _flatten(prefix: str, value: Any, row: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, row)
    elif isinstance(value, list) and len(value) == 2 and all(
        isinstance(x, (int, float)) or x is None for x in value
    ):
        row[f"{prefix}_low"], row[f"{prefix}_high"] = value
    else:
        row[prefix] = value


def _csv_rows(text: str) -> list[dict]:
    def number(x: str):
        try:
            return float(x) if x not in ("", "NaN") else math.nan
        except ValueError:
            return x

    return [{k: number(v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


class Result:
    """A command's result: its files (name → bytes) as the command line writes them, the main
    JSON file as a dict (``summary``), and ``write(dir)``."""

    _main = "summary.json"

    def __init__(self, files: list[tuple[str, bytes]]):
        self.files: dict[str, bytes] = dict(files)
        self._order = [name for name, _ in files]
        self.summary: dict = json.loads(self.files[self._main])

    def text(self, name: str) -> str:
        """A file's text (e.g. ``"summary.md"``)."""
        return self.files[name].decode("utf-8")

    def write(self, dir: str | os.PathLike) -> Path:
        """Writes the command line's files to `dir` as it writes them: the directory locked
        against other trialsim commands, the old main JSON file removed first, every file
        atomically, the main JSON file last (present means the set is whole). Returns the
        directory."""
        _trialsim.write_files(os.fspath(dir), [(n, self.files[n]) for n in self._order], self._main)
        return Path(dir)

    def _repr_markdown_(self) -> str:
        md = next((n for n in self._order if n.endswith(".md")), None)
        return self.text(md) if md else repr(self)


class RunResult(Result):
    """`trialsim run`: ``summary`` is summary.json; ``tests``, ``survival`` and ``estimates``
    are tables of it; ``replicates`` is replicates.csv when asked for (``replicates=True``)."""

    def __init__(self, files, replicates_csv: bytes | None):
        super().__init__(files)
        self._replicates = replicates_csv
        if replicates_csv is not None:
            self.files["replicates.csv"] = replicates_csv
            self._order.insert(len(self._order) - 1, "replicates.csv")

    def __repr__(self) -> str:
        s = self.summary
        power = ", ".join(f"{k} {v['power']:.3f}" for k, v in s["tests"].items())
        return f"<trialsim run {s['scenario']}: {s['replicates']} replicates; power {power}>"

    @property
    def tests(self):
        """One row per test: power with its SE and 95% interval, type I error, mean and SD of z."""
        rows = []
        for name, t in self.summary["tests"].items():
            row = {"test": name}
            _flatten("", t, row)
            rows.append(row)
        return _frame(rows)

    @property
    def survival(self):
        """The true survival of each endpoint and arm at the analysis horizons, with the
        primary endpoint's simulated Kaplan–Meier estimate (mean, SD over trials, mean SE)."""
        s = self.summary
        truth = s["truth"]
        horizons = truth["horizons"]
        est = s["estimates"]
        rows = []
        for e in truth["endpoints"]:
            for arm in e["survival"]:
                for h, v in zip(horizons, arm["values"]):
                    row = {"endpoint": e["endpoint"], "arm": arm["arm"], "time": h, "truth": v}
                    if e["endpoint"] == truth["endpoint"]:
                        km = est.get(f"km.{arm['arm']}.{_num(h)}")
                        se = est.get(f"km.{arm['arm']}.{_num(h)}.se")
                        row["km_mean"] = km["mean"] if km else None
                        row["km_sd"] = km["sd"] if km else None
                        row["km_se_mean"] = se["mean"] if se else None
                    rows.append(row)
        return _frame(rows)

    @property
    def estimates(self):
        """One row per estimate (z statistics, hazard ratios, RMST, KM, crossing time, events):
        its truth where known, mean, SD, quantiles, trials and trials where not estimable."""
        rows = []
        for name, d in self.summary["estimates"].items():
            row = {"estimate": name}
            row.update(d)
            rows.append(row)
        return _frame(rows)

    @property
    def replicates(self):
        """replicates.csv: one row per simulated trial (``run(..., replicates=True)``)."""
        if self._replicates is None:
            raise ValueError("run(..., replicates=True) keeps the replicates")
        rows = self._replicates.decode("utf-8")
        pd = _pandas()
        return pd.read_csv(io.StringIO(rows)) if pd is not None else _csv_rows(rows)


def _num(h: float) -> str:
    """A horizon as the estimates' names write it (Rust's shortest form: 1, 2.5)."""
    return str(int(h)) if float(h).is_integer() else repr(h)


class SweepResult:
    """`trialsim sweep`: the directory holding the point records and (once whole) sweep.csv,
    sweep.md, report.html and the plots; ``table`` is sweep.csv."""

    def __init__(self, info: dict):
        self.out = Path(info["out"])
        self.points, self.reused, self.computed = info["points"], info["reused"], info["computed"]
        self.complete = info["complete"]
        self.summary: dict = json.loads((self.out / "sweep.json").read_text())

    def __repr__(self) -> str:
        return (
            f"<trialsim sweep {self.out}: {self.points} points, {self.reused} reused, "
            f"{self.computed} computed>"
        )

    def write(self, dir: str | os.PathLike) -> Path:
        """Copies the sweep's files (point records, sweep.json, and once complete sweep.csv,
        sweep.md, report.html and the plots) to `dir`, each atomically, sweep.json last."""
        names = [
            str(p.relative_to(self.out))
            for p in sorted(self.out.rglob("*"))
            if p.is_file() and not p.name.startswith(".trialsim")
        ]
        _trialsim.write_files(os.fspath(dir), [(n, (self.out / n).read_bytes()) for n in names], "sweep.json")
        return Path(dir)

    @property
    def table(self):
        """sweep.csv: one row per point and metric (``power.logrank``, ``type_i_error.mw``, …)
        with its value and SE, beside the point's swept values."""
        text = (self.out / "sweep.csv").read_text()
        pd = _pandas()
        return pd.read_csv(io.StringIO(text)) if pd is not None else _csv_rows(text)


class PlanResult(Result):
    """`trialsim plan`: ``summary`` is plan.json; ``answers`` one row per test (and grid point)."""

    _main = "plan.json"

    def __repr__(self) -> str:
        return f"<trialsim plan: {len(self._answers())} answers>"

    def _answers(self) -> list[dict]:
        # plan.json: one search's object ({key, target, tests: [answer per test], ...}), or over
        # a grid a list of them, each with the point's `overrides`.
        points = self.summary if isinstance(self.summary, list) else [self.summary]
        out = []
        for point in points:
            for a in point["tests"]:
                row = {"key": point["key"], "target": point["target"]}
                row.update({f"set.{k}": v for k, v in point.get("overrides") or []})
                row.update(a)
                out.append(row)
        return out

    @property
    def answers(self):
        """One row per test (and grid point): the answer `value` with its Monte Carlo
        `interval`, the power there, Schoenfeld's formula's answer, and notes."""
        rows = []
        for a in self._answers():
            row = {}
            _flatten("", {k: v for k, v in a.items() if k != "curve"}, row)
            rows.append(row)
        return _frame(rows)


class AssuranceResult(Result):
    """`trialsim assurance`: ``summary`` is assurance.json; ``tests`` one row per test."""

    _main = "assurance.json"

    def __repr__(self) -> str:
        t = ", ".join(f"{x['test']} {x['assurance']:.3f}" for x in self.summary["tests"])
        return f"<trialsim assurance {self.summary['scenario']}: {t}>"

    @property
    def tests(self):
        return _frame([dict(t) for t in self.summary["tests"]])


# ---------------------------------------------------------------------------------------------
# Commands


def run(
    scenario: Any,
    reps: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    overrides: Mapping[str, float] | None = None,
    replicates: bool = False,
    progress: bool | None = None,
) -> RunResult:
    """Simulates a scenario as `trialsim run` does (with its identical-arms companion and, with
    ``[analysis.never_better]``, the never-better copy). `overrides` set numeric keys
    (``{"design.n": 200, "arms.hsct.causes.treatment_death.early_risk.risk": 0.2}``); `reps` and
    `seed` override ``[simulation]``; `threads` defaults to every core (results do not depend
    on it)."""
    text, origin = _source(scenario)
    bar = _progress(progress, "run")
    try:
        files, rows = _trialsim.run(
            text, origin, _overrides(overrides), _count("reps", reps), _count("seed", seed),
            _count("threads", threads), bool(replicates), bar.callback(),
        )
    finally:
        bar.close()
    return RunResult(files, rows)


def truth(scenario: Any, overrides: Mapping[str, float] | None = None) -> dict:
    """The model's true values without simulation (summary.json's ``truth``): survival at the
    horizons, RMST, the crossing time, the long-term benefit."""
    text, origin = _source(scenario)
    return json.loads(_trialsim.truth(text, origin, _overrides(overrides)))


def sweep(
    scenario: Any,
    set: Mapping[str, Any] | Sequence[str] | None = None,
    out: str | os.PathLike | None = None,
    zip: bool = False,
    reps: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> SweepResult:
    """A grid of overrides (`set`: ``{"design.n": [100, 200]}`` or ``["design.n=100:400:50"]``;
    none: the scenario's ``[sweep]`` table), resumably into `out` (default: a new temporary
    directory): an interrupted sweep keeps every finished point there, its KeyboardInterrupt
    names the directory, and the same call with that `out` resumes."""
    text, origin = _source(scenario)
    if out is None:
        import tempfile

        out = tempfile.mkdtemp(prefix="trialsim-sweep-")
    bar = _progress(progress, "sweep")
    try:
        info = _trialsim.sweep(
            text, origin, _axes(set), bool(zip), _count("reps", reps), _count("seed", seed),
            _count("threads", threads), os.fspath(out), bar.callback(),
        )
    except KeyboardInterrupt:
        # Say where the finished points are: with the default `out` the caller never saw it.
        raise KeyboardInterrupt(
            f"sweep interrupted: its finished points are kept in {os.fspath(out)}; "
            f"the same call with out={os.fspath(out)!r} resumes"
        ) from None
    finally:
        bar.close()
    return SweepResult(info)


def plan(
    scenario: Any,
    vary: str,
    target: float,
    tests: Sequence[str] | str | None = None,
    range: tuple[float, float] | None = None,
    set: Mapping[str, Any] | Sequence[str] | None = None,
    zip: bool = False,
    never_better_limit: float | None = None,
    reps: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> PlanResult:
    """The smallest value of `vary` (e.g. ``"design.n"``) whose power reaches `target` for each
    test, as `trialsim plan` finds it; over a grid of `set` values, one answer per point."""
    text, origin = _source(scenario)
    tests = [tests] if isinstance(tests, str) else list(tests or [])
    bar = _progress(progress, "plan")
    try:
        files = _trialsim.plan(
            text, origin, str(vary), float(target), tests,
            None if range is None else (float(range[0]), float(range[1])),
            _axes(set), bool(zip), None if never_better_limit is None else float(never_better_limit),
            _count("reps", reps), _count("seed", seed), _count("threads", threads), bar.callback(),
        )
    finally:
        bar.close()
    return PlanResult(files)


def assurance(
    scenario: Any,
    draws: str | os.PathLike | None = None,
    reps: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> AssuranceResult:
    """The probability of success averaged over parameter draws (a CSV such as a calibration's
    draws.csv; none: the scenario's ``[uncertainty]`` table), beside the power at the point
    estimate."""
    text, origin = _source(scenario)
    bar = _progress(progress, "assurance")
    try:
        files = _trialsim.assurance(
            text, origin, None if draws is None else os.fspath(draws), _count("reps", reps),
            _count("seed", seed), _count("threads", threads), bar.callback(),
        )
    finally:
        bar.close()
    return AssuranceResult(files)
