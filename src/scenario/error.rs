//! A bad scenario is one error that names the file, line and column, the key, and what was
//! expected; it renders like a compiler diagnostic.

use std::ops::Range;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

/// Why a scenario was rejected, with the place in the file that caused it.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.render())]
pub struct ScenarioError {
    pub path: PathBuf,
    /// The dotted key at fault (e.g. `arms.hsct.causes.treatment_death`), when known.
    pub key: Option<String>,
    pub message: String,
    /// Where in the text; `None` only when the file could not be read at all.
    location: Option<Box<Location>>,
}

#[derive(Debug)]
struct Location {
    source: String,
    span: Range<usize>,
    line: usize,
    column: usize,
}

impl ScenarioError {
    /// An error about the text at `span` (byte offsets into `source`).
    pub fn at(path: &Path, source: &str, span: Range<usize>, key: Option<String>, message: String) -> Self {
        let start = span.start.min(source.len());
        let end = span.end.clamp(start, source.len());
        let (line, column) = line_column(source, start);
        ScenarioError {
            path: path.to_path_buf(),
            key,
            message,
            location: Some(Box::new(Location { source: source.to_string(), span: start..end, line, column })),
        }
    }

    /// An error with no place in the text: the file is missing or unreadable, or the scenario
    /// was made by overrides (line numbers would point into regenerated text).
    pub fn without_location(path: &Path, message: String) -> Self {
        ScenarioError { path: path.to_path_buf(), key: None, message, location: None }
    }

    /// `(line, column)`, both 1-based, columns counted in characters.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.location.as_ref().map(|l| (l.line, l.column))
    }

    fn render(&self) -> String {
        let title = match &self.key {
            Some(key) => format!("`{key}`: {}", self.message),
            None => self.message.clone(),
        };
        let Some(loc) = &self.location else {
            return format!("error: {}: {title}", self.path.display());
        };
        let path = self.path.display().to_string();
        let head = format!("{path}:{}:{}: {title}", loc.line, loc.column);
        // An empty file has nothing to underline; the head line already says where.
        if loc.source.trim().is_empty() {
            return format!("error: {head}");
        }
        let report = [Level::ERROR.primary_title(&head).element(
            Snippet::source(loc.source.as_str())
                .path(path.as_str())
                .annotation(AnnotationKind::Primary.span(loc.span.clone())),
        )];
        Renderer::plain().render(&report).to_string()
    }
}

/// 1-based line and character column of byte offset `at`.
fn line_column(source: &str, at: usize) -> (usize, usize) {
    let before = &source[..floor_char_boundary(source, at)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_in_chars() {
        assert_eq!(line_column("a = 1\nbé = 2\n", 0), (1, 1));
        assert_eq!(line_column("a = 1\nbé = 2\n", 6), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(line_column("a = 1\nbé = 2\n", 9), (2, 3));
    }

    #[test]
    fn message_names_file_line_column_and_key() {
        let src = "name = \"x\"\n[design]\nn = 1\n";
        let e = ScenarioError::at(
            Path::new("s.toml"),
            src,
            24..25,
            Some("design.n".into()),
            "expected an integer ≥ 2, found 1".into(),
        );
        let text = e.to_string();
        assert!(text.contains("s.toml:3:5"), "{text}");
        assert!(text.contains("`design.n`"), "{text}");
        assert!(text.contains("expected an integer ≥ 2"), "{text}");
    }
}
