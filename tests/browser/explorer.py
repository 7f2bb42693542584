#!/usr/bin/env python3
"""The explorer and report.html in a real browser: headless Chromium driven through WebDriver
(selenium, with the system's chromedriver). Run by .ci/run after `cargo test`:

    python3 tests/browser/explorer.py target/release/trialsim [--screenshot docs/explorer.png]

1. `trialsim serve` on a free port; the page opened with the token; the initial results appear.
2. The treatment-related-mortality slider moved by keyboard; the refined result; the log-rank
   power on the page equals `trialsim run` of the downloaded TOML (same seed and replicates).
3. An invalid value typed in the TOML editor: the located error appears; the results stay.
4. Without the token, with a foreign Host, or from a foreign Origin: requests are refused.
5. A report.html written by `trialsim run`, opened from file://: tables and plots render, and the
   page loads nothing.

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


def md_power(summary_md, test="logrank"):
    for line in summary_md.splitlines():
        if line.startswith(f"| `{test}` |"):
            return line.split("|")[2].strip()
    raise AssertionError(f"no {test} row in summary.md")


def main():
    binary = os.path.abspath(sys.argv[1])
    shot = sys.argv[sys.argv.index("--screenshot") + 1] if "--screenshot" in sys.argv else None
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
        check(slider.get_attribute("value") == "0.1", "the slider starts at the file's risk 0.1")
        # Focused, not clicked: a click on a range input moves it to where it was clicked.
        driver.execute_script("arguments[0].focus()", slider)
        # Three steps of 0.005 up, pressed as fast as the driver can (each a change, each
        # superseding the one before), then one Page Down: a tenth of the range (0 to 0.5), to
        # 0.065. That last change is the one timed.
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

        print("3. an invalid value typed in the editor")
        editor = driver.find_element(By.ID, "toml")
        at = editor.get_attribute("value").index("alpha = 0.025") + len("alpha = ")
        driver.execute_script("arguments[0].focus(); arguments[0].setSelectionRange(arguments[1], arguments[1] + 5);", editor, at)
        editor.send_keys("7")
        err = driver.find_element(By.ID, "toml-error")
        WebDriverWait(driver, 10).until(lambda d: err.is_displayed() and err.text)
        msg = err.text
        check(re.search(r"astis\.toml:\d+:\d+", msg) and "analysis.alpha" in msg and "(0, 0.5]" in msg,
              f"located error shown: {msg.splitlines()[0]}")
        check(power_cell(driver).text == page_power, "the last good results stay on screen")
        check("not valid" in driver.find_element(By.ID, "status").text, "the status says the edit is not valid")
        if shot:
            editor.send_keys(Keys.BACKSPACE, "0.025")
            WebDriverWait(driver, 30).until(lambda d: not err.is_displayed())
            wait_stage(driver, "refined")
            driver.execute_script("document.getElementById('side').scrollTop = 0; document.getElementById('results').scrollTop = 0;")
            driver.save_screenshot(os.path.join(tmp, "explorer.png"))
            shutil.copy(os.path.join(tmp, "explorer.png"), shot)
            print(f"  screenshot: {shot}")

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
