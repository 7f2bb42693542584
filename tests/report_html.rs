//! report.html: every command writes one beside its Markdown, from the same text, with its plots
//! inlined; user text is escaped; nothing in it depends on where or how fast it was made.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

fn trialsim(args: &[&str]) {
    Command::cargo_bin("trialsim").unwrap().args(args).arg("--quiet").assert().success();
}

/// The page of `dir`: present, whole, script-free, naming `command`, holding the Markdown's
/// tables and every SVG of the directory (calibrate's per-study folders aside).
fn check_page(dir: &Path, md: &str, command: &str) -> String {
    let page =
        fs::read_to_string(dir.join("report.html")).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    assert!(!page.contains("<script"), "a report needs no script");
    assert!(
        page.contains(&format!("<code id=\"command\">{command}</code>")),
        "{command} not in\n{}",
        &page[..2000]
    );
    assert!(!page.contains(dir.to_str().unwrap()), "the output path leaked into the page");
    let text = fs::read_to_string(dir.join(md)).unwrap();
    let title = trialsim::report::html::title_of(&text, "");
    assert!(page.contains(&format!("<title>{}</title>", trialsim::report::html::escape(&title))), "{title}");
    assert_eq!(page.matches("<h1>").count(), text.lines().filter(|l| l.starts_with("# ")).count());
    let tables = text.lines().filter(|l| l.starts_with("|---")).count();
    assert_eq!(page.matches("<table>").count(), tables, "every table of {md}");
    let svgs: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    assert!(!svgs.is_empty() || md == "assurance.md");
    for s in &svgs {
        assert!(page.contains(&format!("<figure data-file=\"{s}\">")), "{s} not inlined");
    }
    assert_eq!(page.matches("<svg ").count(), svgs.len());
    page
}

#[test]
fn every_simulating_command_writes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n);
    let s = |p: &Path| p.to_str().unwrap().to_string();

    trialsim(&["run", "scenarios/hsct_monitoring.toml", "--reps", "400", "--out", &s(&d("run"))]);
    let page =
        check_page(&d("run"), "summary.md", "trialsim run hsct_monitoring.toml --seed 2026 --reps 400");
    let toml = fs::read_to_string("scenarios/hsct_monitoring.toml").unwrap();
    assert!(page.contains(&trialsim::report::html::escape(&toml)), "the scenario as run, verbatim");
    assert!(page.contains(trialsim::engine::ENGINE_VERSION));

    trialsim(&[
        "followup",
        "scenarios/astis.toml",
        "--reps",
        "300",
        "--cuts",
        "4,8.5",
        "--out",
        &s(&d("followup")),
    ]);
    check_page(
        &d("followup"),
        "followup.md",
        "trialsim followup astis.toml --seed 2014 --reps 300 --cuts 4,8.5",
    );

    trialsim(&[
        "sweep",
        "scenarios/ph.toml",
        "--reps",
        "200",
        "--set",
        "design.n=100,200",
        "--out",
        &s(&d("sweep")),
    ]);
    check_page(&d("sweep"), "sweep.md", "trialsim sweep ph.toml --seed 7 --reps 200 --set design.n=100,200");

    trialsim(&[
        "plan",
        "scenarios/ph.toml",
        "--vary",
        "design.n",
        "--target",
        "0.8",
        "--test",
        "logrank",
        "--reps",
        "300",
        "--out",
        &s(&d("plan")),
    ]);
    check_page(
        &d("plan"),
        "plan.md",
        "trialsim plan ph.toml --seed 7 --reps 300 --vary design.n --target 0.8 --test logrank",
    );

    let uncertain = d("ph_uncertain.toml");
    let text = fs::read_to_string("scenarios/ph.toml").unwrap()
        + "\n[uncertainty]\ndraws = 5\n[uncertainty.keys]\n\"arms.experimental.causes.death.relative.hr\" = { uniform = [0.6, 0.8] }\n";
    fs::write(&uncertain, text).unwrap();
    trialsim(&["assurance", &s(&uncertain), "--reps", "200", "--out", &s(&d("assurance"))]);
    check_page(&d("assurance"), "assurance.md", "trialsim assurance ph_uncertain.toml --seed 7 --reps 200");
}

#[test]
fn a_label_with_markup_is_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string("scenarios/ph.toml").unwrap().replacen(
        "[arms.control.causes]",
        "[arms.control]\nlabel = \"<script>alert('x')</script> & <b>co</b>\"\n[arms.control.causes]",
        1,
    );
    assert!(text.contains("alert"), "ph.toml has an [arms.control] table");
    let p = dir.path().join("label.toml");
    fs::write(&p, text).unwrap();
    let out = dir.path().join("out");
    trialsim(&["run", p.to_str().unwrap(), "--reps", "200", "--out", out.to_str().unwrap()]);
    let page = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!page.contains("<script") && !page.contains("<b>"), "markup reached the page");
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;"));
}
