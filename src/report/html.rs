//! report.html: one self-contained page per command, made from the same text as its Markdown.
//!
//! Each section of a report is rendered once, as CommonMark (the `.md` file); the page is that
//! text through a CommonMark parser (pulldown-cmark, GitHub tables), with the command's plots
//! inlined as SVG, the scenario as run, the canonical command and the versions. Nothing is kept
//! twice, so the page cannot say something the Markdown does not.
//!
//! The page needs no network and no script: inline CSS and SVG only, and a Content Security
//! Policy that forbids everything else. It holds no time stamp, path or thread count, so it is
//! byte-identical across `--threads` and `--out` like every other output.
//!
//! Text from the user (scenario names, labels, keys) reaches the page only as escaped text: raw
//! HTML in the Markdown is turned into text, so a label `<script>` shows as `<script>`.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

use crate::engine::ENGINE_VERSION;

/// The page's style: readable on screen, and printable (no fixed heights, tables break across
/// pages by row).
const STYLE: &str = include_str!("report.css");

/// What the page says about how it was made, beside the results.
#[derive(Debug, Clone, Default)]
pub struct About {
    /// The command that reproduces the results, without paths or thread counts:
    /// `trialsim run astis.toml --seed 2014 --reps 10000`.
    pub command: String,
    /// The scenario documents as run: (file name, TOML text).
    pub scenarios: Vec<(String, String)>,
}

/// The file name of a path as typed on a command line, without its directories: the canonical
/// command names files, never where they were.
pub fn file_name(path: &str) -> String {
    std::path::Path::new(path).file_name().map_or_else(|| path.to_string(), |n| n.to_string_lossy().into())
}

/// `trialsim <subcommand> <file> --seed S --reps R` followed by `extra` arguments, each quoted
/// for a POSIX shell when it needs to be.
pub fn command(subcommand: &str, file: &str, seed: u64, reps: u64, extra: &[String]) -> String {
    let mut words = vec!["trialsim".to_string(), subcommand.to_string(), shell_word(&file_name(file))];
    words.extend(["--seed".into(), seed.to_string(), "--reps".into(), reps.to_string()]);
    words.extend(extra.iter().map(|w| shell_word(w)));
    words.join(" ")
}

/// A word a POSIX shell reads back unchanged: as it is when it holds only safe characters, else
/// single-quoted.
pub(crate) fn shell_word(w: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c);
    if !w.is_empty() && w.chars().all(safe) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// CommonMark → HTML, with GitHub tables; raw HTML in the source becomes text. Headings get the
/// ids GitHub gives them (`## Glossary` → `id="glossary"`), so a report's `(#glossary)` link
/// works in both.
pub(crate) fn markdown_to_html(md: &str) -> String {
    let mut events: Vec<Event> = Parser::new_ext(md, Options::ENABLE_TABLES)
        .map(|e| match e {
            Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
            e => e,
        })
        .collect();
    let mut seen: Vec<String> = Vec::new();
    for i in 0..events.len() {
        if !matches!(events[i], Event::Start(Tag::Heading { .. })) {
            continue;
        }
        let mut text = String::new();
        for e in &events[i + 1..] {
            match e {
                Event::End(TagEnd::Heading(_)) => break,
                Event::Text(t) | Event::Code(t) => text.push_str(t),
                _ => {}
            }
        }
        let base = slug(&text);
        let n = seen.iter().filter(|s| **s == base).count();
        seen.push(base.clone());
        let id = if n == 0 { base } else { format!("{base}-{n}") };
        if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i] {
            *slot = Some(id.into());
        }
    }
    let mut o = String::with_capacity(md.len() * 2);
    html::push_html(&mut o, events.into_iter());
    o
}

/// A heading's anchor as GitHub makes it: lower case, letters, digits, `-` and `_` kept, spaces
/// to `-`, everything else dropped.
fn slug(text: &str) -> String {
    text.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The title of a Markdown report as plain text: its first `# ` heading without code and
/// emphasis marks, else `fallback`.
pub fn title_of(md: &str, fallback: &str) -> String {
    md.lines().find_map(|l| l.strip_prefix("# ")).map_or_else(|| fallback.to_string(), plain_title)
}

/// A heading's text without code and emphasis marks and without the backslashes that escape
/// scenario text (`report::md_text`): `A\_B` is `A_B`.
fn plain_title(t: &str) -> String {
    let mut o = String::with_capacity(t.len());
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_punctuation) => o.push(chars.next().unwrap_or(c)),
            '`' | '*' => {}
            c => o.push(c),
        }
    }
    o.trim().to_string()
}

/// An SVG made by this crate's plots, ready to sit inside HTML: without an XML declaration, and
/// with a `role` so that screen readers announce it as a picture (one only: a second `role`
/// attribute on the same element is invalid HTML, and `chart::titled` already gives one).
fn inline_svg(svg: &str) -> String {
    let body = match svg.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(rest, |(_, b)| b),
        None => svg,
    }
    .trim();
    let open_tag = body.find("<svg ").and_then(|i| body[i..].find('>').map(|j| &body[i..i + j]));
    match open_tag {
        Some(tag) if !tag.contains(" role=") => body.replacen("<svg ", "<svg role=\"img\" ", 1),
        _ => body.to_string(),
    }
}

/// The body of a report (no `<html>` wrapper): the Markdown as HTML, then the plots. The
/// explorer shows the same fragment.
pub fn body(md: &str, figures: &[(&str, &str)]) -> String {
    let mut o = String::new();
    o.push_str("<article class=\"report\">\n");
    o.push_str(&markdown_to_html(md));
    if !figures.is_empty() {
        o.push_str("<section class=\"figures\">\n<h2>Plots</h2>\n");
        for (name, svg) in figures {
            o.push_str(&format!(
                "<figure data-file=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
                escape(name),
                inline_svg(svg),
                escape(name)
            ));
        }
        o.push_str("</section>\n");
    }
    o.push_str("</article>\n");
    o
}

/// The whole page: `md` (a command's Markdown report), its plots as (file name, SVG text), and
/// how it was made.
pub fn page(md: &str, figures: &[(&str, &str)], about: &About) -> String {
    let title = title_of(md, "trialsim report");
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // Nothing but the inline style may load: no network, no script.
    o.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">\n",
    );
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!("<meta name=\"generator\" content=\"trialsim {}\">\n", env!("CARGO_PKG_VERSION")));
    o.push_str(&format!("<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n", escape(&title)));
    o.push_str(&about_html(about));
    o.push_str(&body(md, figures));
    o.push_str(&scenarios_html(about));
    o.push_str("</body>\n</html>\n");
    o
}

/// How the results were made: the command and the versions.
fn about_html(about: &About) -> String {
    let mut o = String::from("<header class=\"about\">\n<dl>\n");
    if !about.command.is_empty() {
        o.push_str(&format!(
            "<dt>command</dt><dd><code id=\"command\">{}</code></dd>\n",
            escape(&about.command)
        ));
    }
    o.push_str(&format!(
        "<dt>trialsim</dt><dd id=\"version\">{}</dd>\n<dt>engine</dt><dd id=\"engine\">{}</dd>\n</dl>\n</header>\n",
        escape(env!("CARGO_PKG_VERSION")),
        escape(ENGINE_VERSION)
    ));
    o
}

/// The scenario documents as run, verbatim.
fn scenarios_html(about: &About) -> String {
    let mut o = String::new();
    for (name, text) in &about.scenarios {
        o.push_str(&format!(
            "<section class=\"scenario\">\n<h2>Scenario as run: <code>{}</code></h2>\n\
             <pre><code class=\"language-toml\">{}</code></pre>\n</section>\n",
            escape(name),
            escape(text)
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_svg_gets_one_role() {
        let bare = "<?xml version=\"1.0\"?>\n<svg width=\"10\"><rect/></svg>";
        assert_eq!(inline_svg(bare), "<svg role=\"img\" width=\"10\"><rect/></svg>");
        let named =
            "<svg width=\"10\" role=\"img\" aria-label=\"x\"><title>x</title><svg role=\"none\"></svg></svg>";
        assert_eq!(inline_svg(named), named);
    }

    #[test]
    fn raw_html_in_a_label_is_shown_as_text() {
        let md = "# <script>alert(1)</script> trial\n\nExperimental: **<img src=x onerror=alert(1)>**\n\n\
                  | test | power |\n|---|---|\n| `<b>` | 5% |\n";
        let about = About {
            command: "trialsim run 'a<b>.toml' --seed 1 --reps 2".into(),
            scenarios: vec![("a<b>.toml".into(), "label = \"</code><script>x</script>\"\n".into())],
        };
        let page = page(md, &[], &about);
        for bad in ["<script", "<img", "<b>"] {
            assert!(!page.contains(bad), "{bad} reached the page:\n{page}");
        }
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; trial"), "{page}");
        assert!(page.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt; trial</title>"), "{page}");
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "{page}");
        assert!(page.contains("<td><code>&lt;b&gt;</code></td>"), "{page}");
        assert!(page.contains("&lt;/code&gt;&lt;script&gt;x&lt;/script&gt;"), "{page}");
    }

    #[test]
    fn tables_headings_and_code_render_as_html() {
        let md = "# run — a title\n\n10 replicates; `efs`.\n\n## Power\n\n| test | power |\n|---|---|\n| `logrank` | 27.9% ± 0.4 |\n";
        let html = markdown_to_html(md);
        assert!(html.contains("<h1 id=\"run--a-title\">run — a title</h1>"), "{html}");
        assert!(html.contains("<h2 id=\"power\">Power</h2>"), "{html}");
        assert!(html.contains("<th>test</th>"), "{html}");
        assert!(html.contains("<td><code>logrank</code></td><td>27.9% ± 0.4</td>"), "{html}");
        assert_eq!(title_of(md, "x"), "run — a title");
        assert_eq!(title_of("no heading", "x"), "x");
        assert_eq!(title_of("# a \\<b\\> \\_c\\_ d\\e\n", "x"), "a <b> _c_ d\\e");
        assert_eq!(
            title_of("# ph — smallest `design.n` for **80%**\n", "x"),
            "ph — smallest design.n for 80%"
        );
    }

    #[test]
    fn plots_are_inlined_without_their_xml_declaration() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"10\"><title>p</title></svg>\n";
        let b = body("# t\n", &[("survival.svg", svg)]);
        assert!(!b.contains("<?xml"), "{b}");
        assert!(b.contains("<figure data-file=\"survival.svg\">\n<svg role=\"img\" width=\"10\""), "{b}");
        assert!(b.contains("<figcaption>survival.svg</figcaption>"), "{b}");
    }

    #[test]
    fn the_page_is_self_contained_and_says_how_it_was_made() {
        let about = About {
            command: command("run", "scenarios/astis.toml", 2014, 10000, &[]),
            scenarios: vec![("astis.toml".into(), "name = \"astis\"\n".into())],
        };
        assert_eq!(about.command, "trialsim run astis.toml --seed 2014 --reps 10000");
        let p = page("# astis\n", &[], &about);
        assert!(p.contains("default-src 'none'"));
        assert!(!p.contains("<script"), "no script is needed to read it");
        assert!(!p.contains("http://") && !p.contains("https://"), "no network address: {p}");
        assert!(p.contains(ENGINE_VERSION) && p.contains(env!("CARGO_PKG_VERSION")));
        assert!(p.contains("<code class=\"language-toml\">name = &quot;astis&quot;\n</code>"), "{p}");
    }

    #[test]
    fn shell_words_round_trip() {
        assert_eq!(shell_word("design.n=100,200"), "design.n=100,200");
        assert_eq!(shell_word("fh(0,1)"), "'fh(0,1)'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(file_name("/a/b/c.toml"), "c.toml");
    }
}
