#!/usr/bin/env python3
"""The explorer and report.html in a real browser: headless Chromium driven through WebDriver
(selenium, with the system's chromedriver). Run by .ci/run after `cargo test`:

    python3 tests/browser/explorer.py target/release/trialsim [--screenshot docs/explorer.png]

1. `trialsim serve` on a free port; the page opened with the token; the initial results appear.
2. The treatment-related-mortality slider moved by keyboard (in %); the refined result; the
   log-rank power on the page equals `trialsim run` of the downloaded TOML (same seed and
   replicates).
2c. The clinician's task: type "20" in "Transplant-related mortality", read the log-rank power
   from the plain-language summary, pin, type "5", compare side by side; every number checked
   against `trialsim run` of the same scenario; a link to the settings, applied only on a click.
3. Invalid values (typed in a control, or in the TOML editor): the located error appears next to
   the control and under the editor, and no results are left beside it.
4. Without the token, with a foreign Host, or from a foreign Origin: requests are refused.
5. A report.html written by `trialsim run`, opened from file://: tables and plots render, and the
   page loads nothing.
6. Accessibility: axe-core (WCAG 2 A and AA rules) on the explorer at 1024 and 360 px and on
   report.html: no serious or critical violation; the layout fits 360 px without sideways
   scrolling; screenshots at 360, 1024 and 1600 px (`--screenshots DIR`).
7. Scenario labels holding markup (`"><script>`, `<img onerror>`) are shown as text everywhere
   on the page: nothing runs, no element is made from them.

    python3 tests/browser/explorer.py target/release/trialsim --axe PATH/axe.min.js [--screenshots docs]

Prints the latencies it measured; exits non-zero on the first failed check.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import http.client

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

SCENARIO = "scenarios/astis.toml"
TRM = "arms.hsct.causes.treatment_death.early_risk.risk"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"  ok: {what}")


def browser(downloads, profile):
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ]:
        o.add_argument(a)
    o.add_experimental_option(
        "prefs", {"download.default_directory": downloads, "download.prompt_for_download": False}
    )
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=o, service=service)


def start_server(binary, *args):
    p = subprocess.Popen([binary, "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]+)", line)
    if not m:
        p.kill()
        raise AssertionError(f"no URL printed: {line!r} {p.stderr.read()!r}")
    return p, line.split()[-1], int(m.group(1)), m.group(2)


def request(port, method, path, headers, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body, headers)
    r = c.getresponse()
    return r.status, r.read().decode()


def wait_stage(driver, stage, timeout=30):
    WebDriverWait(driver, timeout, poll_frequency=0.01).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-stage") == stage
    )


def power_cell(driver, test="logrank"):
    return driver.find_element(By.CSS_SELECTOR, f'td.power[data-test="{test}"]')


def in_100(p):
    """The plain-language summary's rounding (report::run::plain::in_100)."""
    x = 100 * p
    return f"{x:.1f}" if x < 9.95 else f"{x:.0f}"


def pct1(p):
    """The comparison table's percent (explorer.js `pc`)."""
    return f"{100 * p:.1f}%"


def control(driver, key):
    return driver.find_element(By.CSS_SELECTOR, f'.control[data-key="{key}"]')


def type_value(driver, key, value):
    box = control(driver, key).find_element(By.CSS_SELECTOR, "input[type=text]")
    driver.execute_script("arguments[0].focus(); arguments[0].select();", box)
    box.send_keys(Keys.BACKSPACE, value, Keys.TAB)


def wait_toml(driver, needle, timeout=60):
    WebDriverWait(driver, timeout, poll_frequency=0.02).until(
        lambda d: needle in d.find_element(By.ID, "toml").get_attribute("value")
        and d.find_element(By.TAG_NAME, "body").get_attribute("data-stage") == "refined"
    )


def cli_summary(binary, tmp, name, text):
    path = os.path.join(tmp, f"{name}.toml")
    with open(path, "w") as f:
        f.write(text)
    out = os.path.join(tmp, name)
    subprocess.run([binary, "run", path, "--out", out, "--quiet"], check=True)
    return json.load(open(os.path.join(out, "summary.json")))


def axe(driver, source, where):
    driver.execute_script(source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })"
        ".then((r) => done(r.passes.length ? r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }))"
        "  : [{ id: 'no rule passed', impact: 'critical', nodes: 0, help: 'axe checked nothing' }]))"
        ".catch((e) => done([{ id: 'axe failed', impact: 'critical', nodes: 0, help: String(e) }]));"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    for v in result:
        print(f"    axe {where}: {v['impact']} {v['id']} ({v['nodes']}): {v['help']}")
    check(not bad, f"axe on {where}: no serious or critical violation ({len(result)} minor)")


def md_power(summary_md, test="logrank"):
    for line in summary_md.splitlines():
        if line.startswith(f"| `{test}` |"):
            return line.split("|")[2].strip()
    raise AssertionError(f"no {test} row in summary.md")


def main():
    binary = os.path.abspath(sys.argv[1])
    shots = sys.argv[sys.argv.index("--screenshots") + 1] if "--screenshots" in sys.argv else None
    axe_path = sys.argv[sys.argv.index("--axe") + 1] if "--axe" in sys.argv else None
    if not axe_path or not os.path.exists(axe_path):
        raise AssertionError("--axe PATH/axe.min.js is required (.ci/browser installs axe-core with npm)")
    axe_source = open(axe_path).read()
    tmp = tempfile.mkdtemp(prefix="trialsim-browser-")
    downloads = os.path.join(tmp, "downloads")
    os.makedirs(downloads)
    server, url, port, token = start_server(binary, SCENARIO)
    driver = browser(downloads, os.path.join(tmp, "profile"))
    timings = {}
    try:
        print("1. the page opens with the token and shows results")
        t0 = time.perf_counter()
        driver.get(url)
        wait_stage(driver, "quick")
        timings["first quick pass (page load included)"] = time.perf_counter() - t0
        wait_stage(driver, "refined")
        timings["first refined pass (page load included)"] = time.perf_counter() - t0
        check("token" not in driver.current_url, "the token left the address bar (moved into a cookie)")
        first = power_cell(driver).text
        check(re.match(r"\d+\.\d% ± \d", first) is not None, f"log-rank power shown: {first}")
        check(driver.find_element(By.CSS_SELECTOR, "#survival svg") is not None, "the survival plot is drawn")
        titles = driver.find_elements(By.CSS_SELECTOR, "#survival svg circle > title")
        check(len(titles) >= 20 and "true S =" in titles[0].get_attribute("textContent"),
              f"{len(titles)} values to read on hover")

        print("2. the treatment-related-mortality slider")
        slider = driver.find_element(By.CSS_SELECTOR, f'.control[data-key="{TRM}"] input[type=range]')
        check(slider.get_attribute("value") == "10", "the slider starts at the file's risk, 10 (%)")
        # Focused, not clicked: a click on a range input moves it to where it was clicked.
        driver.execute_script("arguments[0].focus()", slider)
        # Three steps of 0.5% up, pressed as fast as the driver can (each a change, each
        # superseding the one before), then one Page Down: a tenth of the range (0 to 50%), to
        # 6.5%. That last change is the one timed.
        for _ in range(3):
            slider.send_keys(Keys.ARROW_RIGHT)
        WebDriverWait(driver, 30, poll_frequency=0.01).until(
            lambda d: "risk = 0.115," in d.find_element(By.ID, "toml").get_attribute("value")
            and d.find_element(By.TAG_NAME, "body").get_attribute("data-stage") == "refined"
        )
        slider.send_keys(Keys.PAGE_DOWN)
        WebDriverWait(driver, 30, poll_frequency=0.01).until(
            lambda d: "risk = 0.065," in d.find_element(By.ID, "toml").get_attribute("value")
            and d.find_element(By.TAG_NAME, "body").get_attribute("data-stage") == "refined"
            and d.find_element(By.ID, "command").text.endswith("--reps 10000")
        )
        body = driver.find_element(By.TAG_NAME, "body")
        timings["slider change → quick pass shown"] = int(body.get_attribute("data-quick-ms")) / 1000
        timings["slider change → refined result shown"] = int(body.get_attribute("data-refined-ms")) / 1000
        page_power = power_cell(driver).text
        page_value = float(power_cell(driver).get_attribute("data-value"))
        check(page_power != first, f"the power changed with the risk: {first} → {page_power}")
        driver.find_element(By.ID, "download-toml").click()
        saved = os.path.join(downloads, "astis.toml")
        WebDriverWait(driver, 10).until(lambda d: os.path.exists(saved))
        text = open(saved).read()
        check("risk = 0.065, within = 0.25" in text and "# 8/79 = 10% treatment-related deaths" in text,
              "the downloaded TOML is the file with the new risk, comments kept")
        out = os.path.join(tmp, "run")
        subprocess.run([binary, "run", saved, "--out", out, "--quiet"], check=True)
        cli = md_power(open(os.path.join(out, "summary.md")).read())
        cli_value = json.load(open(os.path.join(out, "summary.json")))["tests"]["logrank"]["power"]
        check(page_power == cli, f"page {page_power!r} == trialsim run {cli!r}")
        check(page_value == cli_value, f"power value {page_value} == summary.json {cli_value}")

        print("2b. a curve on demand")
        from selenium.webdriver.support.ui import Select
        Select(driver.find_element(By.ID, "curve-key")).select_by_value("design.n")
        for field, value in [("curve-from", "100"), ("curve-to", "400"), ("curve-points", "4")]:
            box = driver.find_element(By.ID, field)
            box.clear()
            box.send_keys(value)
        driver.find_element(By.ID, "curve-run").click()
        WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#curve-table tbody tr"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#curve-table tbody tr")
        check(len(rows) == 4 and rows[0].text.startswith("100"), f"{len(rows)} points of power against design.n")
        check(driver.find_element(By.CSS_SELECTOR, "#curve svg") is not None, "the curve is drawn")

        print("2c. the clinician's task: 20% transplant-related mortality, pinned, against 5%")
        original = open(SCENARIO).read()
        trm_box = control(driver, TRM)
        check("Transplant-related mortality" in trm_box.text and "%" in trm_box.text,
              f"the control says what it is, in %: {trm_box.text.splitlines()[0]}")
        type_value(driver, TRM, "20")
        wait_toml(driver, "risk = 0.2, within")
        plain = driver.find_element(By.ID, "plain").text
        m = re.search(r"in about ([\d.]+) of 100 such trials by the log-rank test", plain)
        check(m is not None, f"the plain-language summary gives the log-rank power: {plain[:160]}…")
        at20 = cli_summary(binary, tmp, "trm20", original.replace("risk = 0.10, within", "risk = 0.2, within"))
        check(m.group(1) == in_100(at20["tests"]["logrank"]["power"]),
              f"summary's {m.group(1)} of 100 == trialsim run {at20['tests']['logrank']['power']}")
        check("transplant-related death" in plain, "the summary speaks of transplant-related death")
        driver.find_element(By.ID, "pin").click()
        type_value(driver, TRM, "5")
        wait_toml(driver, "risk = 0.05, within")
        at5 = cli_summary(binary, tmp, "trm5", original.replace("risk = 0.10, within", "risk = 0.05, within"))
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#compare-table tbody tr"))
        rows = {r.find_element(By.TAG_NAME, "th").text: r for r in driver.find_elements(By.CSS_SELECTOR, "#compare-table tbody tr")}
        row = rows["Power, the log-rank test"]
        pinned = row.find_element(By.CSS_SELECTOR, "td.pinned").text
        now = row.find_element(By.CSS_SELECTOR, "td.now").text
        check(pinned == pct1(at20["tests"]["logrank"]["power"]) and now == pct1(at5["tests"]["logrank"]["power"]),
              f"side by side: 20% → {pinned}, 5% → {now}, as trialsim run gives")
        head = driver.find_element(By.CSS_SELECTOR, "#compare-table thead").text
        check("Transplant-related mortality" in head and "20 %" in head and "5 %" in head, f"the columns say what was set: {head}")
        nb_row = rows["Declares benefit where never better, the log-rank test"]
        check(nb_row.find_element(By.CSS_SELECTOR, "td.now").text == pct1(at5["never_better"]["tests"]["logrank"]["rate"]),
              "the never-better rate beside it, as trialsim run gives")
        paths = driver.find_elements(By.CSS_SELECTOR, "#overlay path")
        check(len(paths) == 4, f"both results' survival curves overlaid ({len(paths)} curves)")
        driver.find_element(By.ID, "share").click()
        link = driver.current_url
        check("#set=" in link and "token" not in link, f"a link to the settings, without the token: {link[:80]}…")
        driver.get("about:blank")
        driver.get(link)
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "shared").is_displayed())
        check("5 %" in driver.find_element(By.ID, "shared-list").text, "the link's setting is listed")
        wait_stage(driver, "refined")
        check("risk = 0.10, within" in driver.find_element(By.ID, "toml").get_attribute("value"), "not applied before a click")
        driver.find_element(By.ID, "shared-apply").click()
        wait_toml(driver, "risk = 0.05, within")
        check(power_cell(driver).text == md_power(open(os.path.join(tmp, "trm5", "summary.md")).read()),
              "applied on a click: the 5% results")
        driver.get("about:blank")
        driver.get(link.split("#")[0] + "#set=" + "%5B%5B%22design.n%22%2C%221e9999%22%5D%2C%5B%22name%22%2C%22x%22%5D%5D")
        wait_stage(driver, "refined")
        check(not driver.find_element(By.ID, "shared").is_displayed(), "a link with values that are not numbers of this scenario is ignored")

        print("3. invalid values: next to the control, and no results beside them")
        type_value(driver, TRM, "200")
        err = control(driver, TRM).find_element(By.CSS_SELECTOR, ".control-error")
        WebDriverWait(driver, 30).until(lambda d: err.is_displayed() and err.text)
        check("early_risk.risk" in err.text, f"the error stands next to the control: {err.text[:100]}")
        check(not driver.find_element(By.ID, "result-body").is_displayed(), "no results are left beside the invalid value")
        type_value(driver, TRM, "ten")
        WebDriverWait(driver, 30).until(lambda d: "found \"ten\"" in err.text)
        check("expected a number in %" in err.text, f"not a number: {err.text}")
        type_value(driver, TRM, "6.5")
        wait_toml(driver, "risk = 0.065, within")
        check(not err.is_displayed(), "a valid value clears the error and shows its results")
        page_power = power_cell(driver).text
        driver.find_element(By.CSS_SELECTOR, "#editor summary").click()
        editor = driver.find_element(By.ID, "toml")
        at = editor.get_attribute("value").index("alpha = 0.025") + len("alpha = ")
        driver.execute_script("arguments[0].focus(); arguments[0].setSelectionRange(arguments[1], arguments[1] + 5);", editor, at)
        editor.send_keys("7")
        err = driver.find_element(By.ID, "toml-error")
        WebDriverWait(driver, 10).until(lambda d: err.is_displayed() and err.text)
        msg = err.text
        check(re.search(r"astis\.toml:\d+:\d+", msg) and "analysis.alpha" in msg and "(0, 0.5]" in msg,
              f"located error shown: {msg.splitlines()[0]}")
        check(not power_cell(driver).is_displayed(), "no results are left beside the invalid scenario")
        check("not valid" in driver.find_element(By.ID, "status").text, "the status says the edit is not valid")
        editor.send_keys(Keys.BACKSPACE, "0.025")
        WebDriverWait(driver, 30).until(lambda d: not err.is_displayed())
        wait_stage(driver, "refined")
        check(power_cell(driver).text == page_power, "the valid text's results return")

        print("4. requests without the token or from elsewhere are refused")
        host = {"Host": f"127.0.0.1:{port}"}
        scen = json.dumps({"toml": text, "stage": "quick", "channel": "x"})
        post = {**host, "Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"}
        status, _ = request(port, "GET", "/", host)
        check(status == 401, f"GET / without the token: {status}")
        status, _ = request(port, "POST", "/api/simulate", post, scen)
        check(status == 401, f"POST without the token: {status}")
        status, _ = request(port, "GET", "/?token=" + "0" * 32, host)
        check(status == 403, f"a wrong token in the URL: {status}")
        status, body = request(port, "GET", "/api/scenario", {"Host": f"evil.example:{port}", "X-Trialsim-Token": token})
        check(status == 403 and "Host" in body, f"a foreign Host (DNS rebinding), token or not: {status}")
        status, _ = request(port, "POST", "/api/simulate", {**post, "X-Trialsim-Token": token, "Origin": "http://evil.example"}, scen)
        check(status == 403, f"a foreign Origin: {status}")
        status, _ = request(port, "POST", "/api/simulate", {**post, "X-Trialsim-Token": token}, scen)
        check(status == 200, f"the same request with the token and this server's Host and Origin: {status}")

        print("5. report.html from file://")
        rep = os.path.join(tmp, "report")
        subprocess.run([binary, "run", SCENARIO, "--reps", "2000", "--out", rep, "--quiet"], check=True)
        driver.get("file://" + os.path.join(rep, "report.html"))
        tables = driver.find_elements(By.CSS_SELECTOR, "article.report table")
        md_tables = sum(1 for l in open(os.path.join(rep, "summary.md")) if l.startswith("|---"))
        check(len(tables) == md_tables and md_tables >= 4, f"{len(tables)} tables rendered, as in summary.md")
        svg = driver.find_element(By.CSS_SELECTOR, 'figure[data-file="survival.svg"] svg')
        check(svg.size["width"] > 300 and svg.size["height"] > 150, f"the survival plot renders ({svg.size})")
        check(driver.find_element(By.TAG_NAME, "h1").text.startswith("astis"), "its title")
        loaded = driver.execute_script("return performance.getEntriesByType('resource').length")
        check(loaded == 0, f"the page loaded {loaded} resources (no network)")
        check(len(driver.find_elements(By.TAG_NAME, "script")) == 0, "no script in the page")
        driver.save_screenshot(os.path.join(tmp, "report.png"))
        print(f"  screenshot: {os.path.join(tmp, 'report.png')}")

        print("6. accessibility and layout")
        driver.get(url.split("?")[0])
        for width in (1024, 360):
            driver.set_window_size(width, 1000)
            driver.get(url.split("?")[0])
            wait_stage(driver, "refined")
            axe(driver, axe_source, f"the explorer at {width} px")
            wide = driver.execute_script(
                "const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')]"
                ".filter((e) => !e.closest('.scroll') && e.getBoundingClientRect().right > w + 1)"
                ".map((e) => e.tagName + '#' + e.id + '.' + e.className + ' in ' + (e.parentElement ? e.parentElement.id || e.parentElement.className : ''));")
            check(not wide, f"nothing wider than the page at {width} px (tables scroll in place): {wide[:5]}")
        for svg in driver.find_elements(By.CSS_SELECTOR, ".figure svg"):
            check(svg.get_attribute("aria-label") and svg.get_attribute("role") == "img", f"the chart is named: {svg.get_attribute('aria-label')[:60]}")
        if shots:
            for width in (360, 1024, 1600):
                driver.set_window_size(width, 1000 if width > 360 else 780)
                driver.get(url.split("?")[0])
                wait_stage(driver, "refined")
                f = os.path.join(shots, f"explorer-{width}.png")
                driver.save_screenshot(f)
                print(f"  screenshot: {f}")
        driver.set_window_size(1400, 1000)
        driver.get("file://" + os.path.join(rep, "report.html"))
        axe(driver, axe_source, "report.html")

        print("7. labels holding markup are text on the page")
        driver.quit()
        server.kill()
        bad = '"><script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2">'
        hostile = original.replace('label = "Autologous HSCT"', f"label = '{bad}'").replace(
            '"Transplant-related mortality (deaths within 3 months of the transplant)"', f"'{bad}'").replace(
            'title = "HSCT vs cyclophosphamide, early diffuse SSc (ASTIS-like)"', f"title = '{bad}'").replace(
            'treatment_death = "transplant-related death"', f"treatment_death = '{bad}'")
        check(hostile.count("__pwned") == 8, "the payload in the arm's, cause's, number's labels and the title")
        hp = os.path.join(tmp, "hostile.toml")
        with open(hp, "w") as f:
            f.write(hostile)
        server, url, port, token = start_server(binary, hp)
        driver = browser(downloads, os.path.join(tmp, "profile2"))
        driver.get(url)
        wait_stage(driver, "refined")
        type_value(driver, TRM, "12")
        wait_toml(driver, "risk = 0.12, within")
        driver.find_element(By.ID, "pin").click()
        type_value(driver, TRM, "8")
        wait_toml(driver, "risk = 0.08, within")
        driver.find_element(By.ID, "glossary").click()
        check(driver.execute_script("return window.__pwned === undefined"), "no script ran")
        imgs = driver.execute_script("return document.querySelectorAll('img, script:not([src])').length")
        check(imgs == 0, "no element was made from a label")
        # The report frame is sandboxed (scripts off, another origin): its source is checked.
        report = driver.execute_script("return document.getElementById('report').srcdoc")
        check("__pwned" in report and "<script" not in report and "<img" not in report,
              "the report shown in the page holds the labels as text")
        shown = driver.find_element(By.ID, "controls").text + driver.find_element(By.ID, "plain").text + driver.find_element(By.ID, "compare").text
        check(shown.count("<script>window.__pwned=1</script>") >= 3, "the labels are shown as text in the controls, the summary and the comparison")
    finally:
        driver.quit()
        server.kill()
    print("timings (seconds):")
    for k, v in timings.items():
        print(f"  {k}: {v:.3f}")
    shutil.rmtree(os.path.join(tmp, "profile"), ignore_errors=True)
    print("browser tests passed")


if __name__ == "__main__":
    main()
