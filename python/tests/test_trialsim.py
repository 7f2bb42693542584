"""The Python package against the command line: the same files byte for byte, bad input as
ScenarioError, Ctrl-C, the GIL released, progress. Run from the repository root after
`cargo build --release` and `pip install ./python` (.ci/python does both), with Python 3.11 or
later (the tests read TOML with tomllib; the package itself needs 3.9):

    python3 -m pytest python/tests
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import pytest

import trialsim
from trialsim import _trialsim

ROOT = Path(__file__).resolve().parents[2]
CLI = os.environ.get("TRIALSIM", str(ROOT / "target" / "release" / "trialsim"))
ASTIS = ROOT / "scenarios" / "astis.toml"


def cli(*args, out):
    subprocess.run([CLI, *map(str, args), "--out", str(out), "--quiet"], check=True)


def files_of(d: Path) -> dict:
    return {
        str(p.relative_to(d)): p.read_bytes()
        for p in sorted(d.rglob("*"))
        if p.is_file() and not p.name.startswith(".trialsim")
    }


@pytest.mark.parametrize("threads", [1, 2, None])
def test_run_writes_the_command_lines_files_byte_for_byte(tmp_path, threads):
    cli("run", ASTIS, "--reps", 1500, "--seed", 7, out=tmp_path / "cli")
    r = trialsim.run(ASTIS, reps=1500, seed=7, threads=threads, progress=False)
    r.write(tmp_path / "py")
    mine, theirs = files_of(tmp_path / "py"), files_of(tmp_path / "cli")
    assert sorted(mine) == sorted(theirs)
    for name in theirs:
        assert mine[name] == theirs[name], name
    assert r.summary == json.loads(theirs["summary.json"])


def test_a_monitored_scenario_with_a_committee_prior_matches_the_command_line(tmp_path):
    # [monitoring.committee] draws its prior from the scenario's [uncertainty] table.
    scenario = ROOT / "scenarios" / "hsct_monitoring.toml"
    cli("run", scenario, "--reps", 300, "--seed", 3, out=tmp_path / "cli")
    r = trialsim.run(scenario, reps=300, seed=3, threads=2, progress=False)
    r.write(tmp_path / "py")
    assert files_of(tmp_path / "py") == files_of(tmp_path / "cli")
    assert "monitoring" in r.summary


def test_a_dict_and_text_run_as_the_file_does():
    by_file = trialsim.run(ASTIS, reps=500, seed=1, progress=False)
    by_text = trialsim.run(ASTIS.read_text(), reps=500, seed=1, progress=False)
    as_dict = tomllib.loads(ASTIS.read_text())
    by_dict = trialsim.run(as_dict, reps=500, seed=1, progress=False)
    assert by_text.files["summary.json"] == by_file.files["summary.json"]
    assert by_dict.files["summary.json"] == by_file.files["summary.json"]


def test_overrides_are_a_sweep_point(tmp_path):
    r = trialsim.run(ASTIS, reps=400, seed=2, overrides={"design.n": 200}, progress=False)
    s = trialsim.sweep(ASTIS, set={"design.n": [200]}, out=tmp_path / "s", reps=400, seed=2,
                       progress=False)
    rows = [x for x in s.table.to_dict("records") if x["metric"] == "power.logrank"]
    assert r.summary["design"]["n"] == 200
    assert rows[0]["value"] == r.summary["tests"]["logrank"]["power"]


def test_tables():
    r = trialsim.run(ASTIS, reps=300, seed=5, replicates=True, progress=False)
    tests = r.tests
    assert list(tests["test"]) == list(r.summary["tests"])
    assert tests.loc[0, "power"] == r.summary["tests"]["logrank"]["power"]
    surv = r.survival
    efs = surv[(surv.endpoint == "efs") & (surv.arm == "cyc") & (surv.time == 1.0)]
    assert efs["km_mean"].iloc[0] == r.summary["estimates"]["km.cyc.1"]["mean"]
    assert set(r.estimates["estimate"]) == set(r.summary["estimates"])
    reps = r.replicates
    assert len(reps) == 300 and reps["replicate"].tolist() == list(range(300))


def test_without_pandas_the_tables_are_lists_of_dicts():
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "import trialsim\n"
        f"r = trialsim.run({str(ASTIS)!r}, reps=200, seed=1, progress=False)\n"
        "assert isinstance(r.tests, list) and r.tests[0]['test'] == 'logrank', r.tests\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize(
    "scenario, kwargs, words",
    [
        ("/nonexistent/astis.toml", {}, ["/nonexistent/astis.toml", "cannot read"]),
        ({"name": "x", "design": {"n": 10, "nn": 3}}, {}, ["<dict>", "unknown field `nn`"]),
        (ASTIS.read_text().replace("n = 156", "n = 'many'"), {}, ["<string>:", "design.n"]),
        (ASTIS, {"reps": -1}, ["reps: expected a positive number of replicates, found -1"]),
        (ASTIS, {"reps": 0}, ["reps: expected at least 1 replicate, found 0"]),
        (ASTIS, {"seed": "x"}, ["seed: expected an integer"]),
        (ASTIS, {"threads": 0}, ["threads: expected at least 1 thread"]),
        (ASTIS, {"overrides": {"design.nn": 3}}, ["unknown field `nn`"]),
        (ASTIS, {"overrides": {"design.n": float("nan")}}, ["finite"]),
        (42, {}, ["expected a path, TOML text or a dict"]),
        ({"name": {1, 2}}, {}, ["<dict>: cannot be a scenario"]),
        ({"name": float("nan")}, {}, ["<dict>: cannot be a scenario"]),
        (ASTIS, {"reps": 2**70}, ["reps: expected an integer below 2^63"]),
        ("missing.toml", {}, ["missing.toml", "cannot read"]),
    ],
)
def test_bad_input_raises_scenario_error(tmp_path, scenario, kwargs, words):
    with pytest.raises(trialsim.ScenarioError) as e:
        trialsim.run(scenario, progress=False, **kwargs)
    for w in words:
        assert w in str(e.value), str(e.value)


def test_a_path_with_an_equals_sign_is_a_file(tmp_path):
    d = tmp_path / "n=200"
    d.mkdir()
    (d / "s.toml").write_text(ASTIS.read_text())
    r = trialsim.run(str(d / "s.toml"), reps=100, seed=1, progress=False)
    assert r.summary["scenario"] == "astis"


def test_write_replaces_a_result_as_the_command_line_does(tmp_path):
    out = tmp_path / "out"
    trialsim.run(ASTIS, reps=200, seed=1, replicates=True, progress=False).write(out)
    assert (out / "replicates.csv").exists()
    second = trialsim.run(ASTIS, reps=300, seed=2, progress=False)
    second.write(out)
    # The earlier run's export is gone: every file describes the run written last.
    assert not (out / "replicates.csv").exists()
    assert json.loads((out / "summary.json").read_text())["replicates"] == 300
    assert not list(out.glob(".trialsim-tmp*"))


def test_kept_replicates_are_capped():
    with pytest.raises(trialsim.ScenarioError, match="--export-replicates"):
        trialsim.run(ASTIS, reps=2_000_000, replicates=True, progress=False)


def test_a_located_error_carries_file_line_column_and_key():
    text = ASTIS.read_text().replace("alpha = 0.025", "alpha = 0.7")
    with pytest.raises(trialsim.ScenarioError) as e:
        trialsim.truth(text)
    err = e.value
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("alpha = 0.7"))
    assert (err.file, err.line, err.column, err.key) == ("<string>", line, 9, "analysis.alpha")
    assert f"<string>:{line}:9" in str(err) and "(0, 0.5]" in str(err)


def test_an_error_in_the_progress_callback_cancels_and_is_raised():
    calls = []

    def boom(done, total):
        calls.append((done, total))
        raise RuntimeError("stop here")

    text = ASTIS.read_text()
    with pytest.raises(RuntimeError, match="stop here"):
        _trialsim.run(text, "<string>", [], 1_000_000, 1, 2, False, boom)
    assert len(calls) == 1


def test_progress_reaches_the_total():
    seen = []
    _trialsim.run(ASTIS.read_text(), "<string>", [], 20_000, 1, 2, False, lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1] > 20_000  # the identical-arms companion counts too
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))


def test_a_tqdm_bar_shows_the_trials(capsys):
    import tqdm  # noqa: F401  (.ci/python installs it; the package uses it when installed)

    trialsim.run(ASTIS, reps=20_000, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "run:" in err and "/50000" in err and "trials" in err, err[-300:]


def test_the_gil_is_released_while_simulating():
    ticks = 0
    stop = threading.Event()

    def count():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    start = time.perf_counter()
    trialsim.run(ASTIS, reps=30_000, seed=1, threads=1, progress=False)
    elapsed = time.perf_counter() - start
    stop.set()
    t.join()
    # A thread sleeping 1 ms between ticks gets hundreds of ticks a second unless the GIL is held.
    assert elapsed > 0.5 and ticks > 100 * elapsed, (ticks, elapsed)


INTERRUPTED = """
import sys, time, trialsim
out = sys.argv[1]
try:
    r = trialsim.{call}
    print("finished")
except KeyboardInterrupt as e:
    print("interrupted:", e)
"""


def interrupt(tmp_path, call, ready=lambda: True, after=1.5):
    """Runs `call` in a Python subprocess and sends it SIGINT `after` seconds after `ready()`."""
    code = INTERRUPTED.format(call=call)
    p = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "out")], stdout=subprocess.PIPE, text=True)
    deadline = time.perf_counter() + 60
    while not ready() and time.perf_counter() < deadline:
        time.sleep(0.02)
    time.sleep(after)
    sent = time.perf_counter()
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    return out.strip(), time.perf_counter() - sent


def test_ctrl_c_cancels_a_run_which_returns_nothing(tmp_path):
    out, waited = interrupt(tmp_path, f"run({str(ASTIS)!r}, reps=10_000_000, threads=2, progress=False)")
    assert out.startswith("interrupted"), out
    assert waited < 5, waited


def test_ctrl_c_stops_a_sweep_which_then_resumes(tmp_path):
    points = tmp_path / "out" / "points"
    call = f"sweep({str(ASTIS)!r}, set={{'design.n': [100, 120, 140, 160, 180, 200, 220, 240]}}, out=out, reps=20000, threads=2, progress=False)"
    # Interrupted as soon as the first point is in, so that some are and some are not.
    out, waited = interrupt(tmp_path, call, ready=lambda: any(points.glob("*.json")), after=0)
    assert out.startswith("interrupted") and waited < 10, (out, waited)
    assert str(tmp_path / "out") in out, "the interrupt names the directory"
    records = list(points.glob("*.json"))
    assert 0 < len(records) < 8, len(records)
    for r in records:
        json.loads(r.read_text())  # every record whole
    assert not (tmp_path / "out" / "sweep.csv").exists()
    s = trialsim.sweep(ASTIS, set={"design.n": [100, 120, 140, 160, 180, 200, 220, 240]},
                       out=tmp_path / "out", reps=20000, threads=2, progress=False)
    assert s.complete and s.reused == len(records) and s.computed == 8 - len(records)


def test_sweep_plan_and_assurance_write_the_command_lines_files(tmp_path):
    cli("sweep", ASTIS, "--reps", 300, "--seed", 4, "--set", "design.n=100,200", out=tmp_path / "cli_sweep")
    s = trialsim.sweep(ASTIS, set={"design.n": [100, 200]}, reps=300, seed=4, progress=False)
    s.write(tmp_path / "py_sweep")
    mine, theirs = files_of(tmp_path / "py_sweep"), files_of(tmp_path / "cli_sweep")
    assert sorted(mine) == sorted(theirs)
    for name in theirs:
        assert mine[name] == theirs[name], name

    cli("plan", ASTIS, "--vary", "design.n", "--target", 0.5, "--test", "logrank", "--reps", 300, "--seed", 4,
        out=tmp_path / "cli_plan")
    p = trialsim.plan(ASTIS, vary="design.n", target=0.5, tests="logrank", reps=300, seed=4, progress=False)
    p.write(tmp_path / "py_plan")
    assert files_of(tmp_path / "py_plan") == files_of(tmp_path / "cli_plan")
    assert p.answers["test"].tolist() == ["logrank"]

    scenario = ROOT / "scenarios" / "plan_next_trial.toml"
    cli("assurance", scenario, "--reps", 200, "--seed", 4, out=tmp_path / "cli_assurance")
    a = trialsim.assurance(scenario, reps=200, seed=4, progress=False)
    a.write(tmp_path / "py_assurance")
    assert files_of(tmp_path / "py_assurance") == files_of(tmp_path / "cli_assurance")


def test_truth_is_summary_truth():
    r = trialsim.run(ASTIS, reps=100, seed=1, progress=False)
    assert trialsim.truth(ASTIS) == r.summary["truth"]
