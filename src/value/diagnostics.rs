//! Diagnostics: how every domain failure reaches the user, with the attribute path
//! it concerns. gRPC errors are kept for protocol faults only.

use super::path::AttributePath;
use super::summary::SummaryText;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttributePath>,
}

/// An ordered collection of diagnostics; `has_errors` decides whether an operation failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(summary: impl Into<SummaryText>, detail: impl Into<String>) -> Self {
        let mut d = Self::new();
        d.add_error(summary, detail);
        d
    }

    pub fn error_at(path: AttributePath, summary: impl Into<SummaryText>, detail: impl Into<String>) -> Self {
        let mut d = Self::new();
        d.add_error_at(path, summary, detail);
        d
    }

    pub fn add_error(&mut self, summary: impl Into<SummaryText>, detail: impl Into<String>) {
        self.push(Severity::Error, String::from(summary.into()), detail.into(), None);
    }

    pub fn add_error_at(&mut self, path: AttributePath, summary: impl Into<SummaryText>, detail: impl Into<String>) {
        self.push(Severity::Error, String::from(summary.into()), detail.into(), Some(path));
    }

    pub fn add_warning(&mut self, summary: impl Into<SummaryText>, detail: impl Into<String>) {
        self.push(Severity::Warning, String::from(summary.into()), detail.into(), None);
    }

    pub fn add_warning_at(&mut self, path: AttributePath, summary: impl Into<SummaryText>, detail: impl Into<String>) {
        self.push(Severity::Warning, String::from(summary.into()), detail.into(), Some(path));
    }

    fn push(&mut self, severity: Severity, summary: String, detail: String, path: Option<AttributePath>) {
        self.0.push(Diagnostic { severity, summary, detail, path });
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// The first diagnostic, the one a single-message channel (a function error) shows.
    pub fn first(&self) -> Option<&Diagnostic> {
        self.0.first()
    }

    /// Adds a paragraph to the detail of every diagnostic.
    pub fn append_detail(&mut self, paragraph: &str) {
        for d in &mut self.0 {
            d.detail.push_str("\n\n");
            d.detail.push_str(paragraph);
        }
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_alone_are_not_failure() {
        let mut d = Diagnostics::new();
        d.add_warning("w", "");
        assert!(!d.has_errors());
        d.add_error_at(AttributePath::root("user"), "e", "");
        assert!(d.has_errors());
    }
}
