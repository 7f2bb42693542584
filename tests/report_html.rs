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
    assert_eq!(page.matches("<h1 ").count(), text.lines().filter(|l| l.starts_with("# ")).count());
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

/// Markup that would run or load something if any output inserted it unescaped.
const PAYLOADS: [&str; 2] = ["\"><script>alert(1)</script>", "<img src=x onerror=alert(2)>"];

/// `text` with every string a reader sees set to the payloads: the title, the arms', strata's,
/// outcomes' and composite's labels, and a `[labels]` table naming every cause and endpoint and
/// giving the transplant risk a label and a unit.
fn with_payloads(text: &str, causes: &[&str], endpoints: &[&str]) -> String {
    let p = format!("{} {}", PAYLOADS[0], PAYLOADS[1]);
    let lit = |s: &str| format!("'{s}'");
    let mut t = text
        .lines()
        .filter(|l| {
            !l.starts_with("[labels")
                && !l.starts_with("causes = {")
                && !l.starts_with("endpoints = {")
                && !l.starts_with("\"arms.hsct.causes.treatment_death")
        })
        .map(|l| {
            if l.starts_with("title = ") {
                format!("title = {}", lit(&p))
            } else if l.starts_with("label = ") {
                format!("label = {}", lit(&p))
            } else if l.starts_with("unit = ") {
                format!("unit = {}", lit(PAYLOADS[1]))
            } else if l.starts_with("source = ") || l.starts_with("note = ") {
                // A calibration target's citation and note.
                format!("{} = {}", l.split(' ').next().unwrap_or_default(), lit(&p))
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let names =
        |names: &[&str]| names.iter().map(|n| format!("{n} = {}", lit(&p))).collect::<Vec<_>>().join(", ");
    t += &format!(
        "\n[labels]\ncauses = {{ {} }}\nendpoints = {{ {} }}\n[labels.numbers]\n\"arms.hsct.causes.treatment_death.early_risk.risk\" = {{ label = {}, unit = {} }}\n",
        names(causes),
        names(endpoints),
        lit(&p),
        lit(PAYLOADS[1])
    );
    t
}

/// Every file of `dir` (and below) that a reader opens shows the payloads as text: no HTML, SVG
/// or Markdown output holds a `<script` or `<img` tag; JSON and CSV hold them as data.
fn assert_escaped(dir: &Path) -> usize {
    let mut checked = 0;
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            checked += assert_escaped(&path);
            continue;
        }
        let name = path.to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).unwrap();
        if [".html", ".svg", ".md"].iter().any(|x| name.ends_with(x)) {
            for tag in ["<script", "<img"] {
                // In Markdown a backslash before `<` makes it text.
                let raw = text
                    .match_indices(tag)
                    .filter(|(i, _)| !name.ends_with(".md") || !text[..*i].ends_with('\\'));
                assert_eq!(raw.count(), 0, "{tag} unescaped in {name}");
            }
            checked += 1;
        } else if name.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    checked
}

#[test]
fn every_scenario_string_is_escaped_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let astis = with_payloads(
        &fs::read_to_string("scenarios/astis.toml").unwrap(),
        &["treatment_death", "disease_death", "organ_failure"],
        &["efs", "os"],
    );
    let scot = with_payloads(
        &fs::read_to_string("scenarios/scot_design.toml").unwrap(),
        &["treatment_death", "disease_death", "organ_failure"],
        &["efs", "os"],
    );
    let strata = with_payloads(
        &fs::read_to_string("scenarios/who_to_transplant.toml").unwrap(),
        &["treatment_death", "disease_death", "organ_failure"],
        &["efs", "os"],
    );
    let mut checked = 0;
    for (name, text) in [("astis", &astis), ("scot", &scot), ("strata", &strata)] {
        assert!(text.matches("<script>").count() >= 4, "{name}: the payloads are in place");
        let p = dir.path().join(format!("{name}.toml"));
        fs::write(&p, text).unwrap();
        let out = dir.path().join(name);
        trialsim(&["run", &s(&p), "--reps", "200", "--out", &s(&out)]);
        let md = fs::read_to_string(out.join("summary.md")).unwrap();
        assert!(md.contains("\\<script\\>alert(1)\\</script\\>"), "{name}: shown as text in summary.md");
        checked += assert_escaped(&out);
    }
    let p = s(&dir.path().join("astis.toml"));
    let out = |n: &str| s(&dir.path().join(n));
    trialsim(&["followup", &p, "--cuts", "6,12.6", "--reps", "100", "--out", &out("followup")]);
    trialsim(&["sweep", &p, "--reps", "100", "--set", "design.n=100,200", "--out", &out("sweep")]);
    trialsim(&[
        "plan",
        &p,
        "--vary",
        "design.n",
        "--target",
        "0.5",
        "--test",
        "logrank",
        "--reps",
        "100",
        "--out",
        &out("plan"),
    ]);
    // Assurance over a scenario's [uncertainty] table, and a calibration whose targets cite and
    // note in payloads.
    let uncertain = with_payloads(
        &fs::read_to_string("scenarios/plan_next_trial.toml").unwrap(),
        &["treatment_death", "disease_event"],
        &["efs"],
    );
    assert!(uncertain.contains("[uncertainty]"), "assurance draws from the scenario's table");
    let p = dir.path().join("uncertain.toml");
    fs::write(&p, uncertain).unwrap();
    trialsim(&["assurance", &s(&p), "--reps", "50", "--out", &out("assurance")]);
    let study = with_payloads(
        &fs::read_to_string("scenarios/studies/phase2_skin.toml").unwrap(),
        &["treatment_death", "disease_death", "progression"],
        &["os"],
    );
    assert!(study.matches("source = '\"><script>").count() >= 2, "the targets' sources carry payloads");
    assert!(study.contains("note = '\"><script>"), "a target's note carries payloads");
    let p = dir.path().join("study.toml");
    fs::write(&p, study).unwrap();
    trialsim(&["calibrate", &s(&p), "--bootstrap", "2", "--reps", "200", "--out", &out("calibrate")]);
    for d in ["followup", "sweep", "plan", "assurance", "calibrate"] {
        let n = assert_escaped(&dir.path().join(d));
        assert!(n >= 2, "{d}: {n} files checked");
        checked += n;
    }
    let md = fs::read_to_string(dir.path().join("calibrate/calibration.md")).unwrap();
    assert!(md.contains("\\<script\\>alert(1)\\</script\\>"), "a target's source shown as text");
    assert!(checked >= 25, "{checked} files checked");
    // report.html shows the labels as text.
    let page = fs::read_to_string(dir.path().join("astis/report.html")).unwrap();
    assert!(page.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), "the label shown as text");
}
