//! Page templates in the registry's convention (tfplugindocs): per-type prose
//! lives in `templates/<kind>/<name>.md.tmpl`; the generator fills in what the
//! schema and the examples say. A subset of tfplugindocs' actions is supported:
//!
//! - `{{ .Name }}`, `{{ .Type }}` ("Resource", "Data Source", …),
//!   `{{ .ProviderName }}`, `{{ .Description }}`, `{{ .SchemaMarkdown }}`, and the
//!   extra fields a page kind adds (a function's `.FunctionSignatureMarkdown`);
//! - `{{ tffile "PATH" }}` / `{{ tffile .ExampleFile }}`: a file as a Terraform
//!   code block; `{{ codefile "LANG" "PATH" }}` / `{{ codefile "shell" .ImportFile }}`.
//!
//! Anything else, or a file that does not exist, is an error: a typo or a
//! missing example can never reach the published docs.

use std::path::Path;

/// What a template can name.
pub struct TemplateData<'a> {
    pub provider_name: &'a str,
    pub name: &'a str,
    /// The kind as a title: "Resource", "Data Source", "Ephemeral Resource", …
    pub kind: &'a str,
    pub description: &'a str,
    pub schema_markdown: String,
    /// The kind's conventional example and import files, relative to the root.
    pub example_file: String,
    pub import_file: String,
    /// Fields of one page kind (`FunctionSignatureMarkdown`, …).
    pub extra: Vec<(&'static str, String)>,
}

/// Renders `template` with `data`; files are read under `root`.
pub fn render(template: &str, data: &TemplateData<'_>, root: &Path) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").ok_or_else(|| format!("unclosed {{{{ in: {}", line_of(&rest[start..])))? + start;
        out.push_str(&action(rest[start + 2..end].trim(), data, root)?);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn action(action: &str, data: &TemplateData<'_>, root: &Path) -> Result<String, String> {
    let field = |name: &str| -> Option<String> {
        Some(match name {
            ".Name" => data.name.to_string(),
            ".Type" => data.kind.to_string(),
            ".ProviderName" => data.provider_name.to_string(),
            ".Description" => data.description.to_string(),
            ".SchemaMarkdown" => data.schema_markdown.clone(),
            ".ExampleFile" => data.example_file.clone(),
            ".ImportFile" => data.import_file.clone(),
            other => data.extra.iter().find(|(n, _)| other.strip_prefix('.') == Some(n))?.1.clone(),
        })
    };
    let arguments: Vec<String> = action.split_whitespace().skip(1).map(|a| argument(a, &field)).collect::<Result<_, _>>()?;
    match (action.split_whitespace().next(), arguments.as_slice()) {
        (Some("tffile"), [path]) => code_block("terraform", path, root),
        (Some("codefile"), [language, path]) => code_block(language, path, root),
        (Some(name), []) if name.starts_with('.') => field(name).ok_or_else(|| format!("unknown field {{{{ {action} }}}}")),
        _ => Err(format!("unknown template action {{{{ {action} }}}}")),
    }
}

/// A quoted string, or a field.
fn argument(text: &str, field: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(literal) => Ok(literal.to_string()),
        None => field(text).ok_or_else(|| format!("unknown field {text}")),
    }
}

fn code_block(language: &str, path: &str, root: &Path) -> Result<String, String> {
    let content = std::fs::read_to_string(root.join(path)).map_err(|e| format!("{path}: {e}"))?;
    Ok(format!("```{language}\n{content}```"))
}

fn line_of(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> TemplateData<'static> {
        TemplateData {
            provider_name: "notes",
            name: "notes_note",
            kind: "Resource",
            description: "A note.",
            schema_markdown: "## Schema\n".into(),
            example_file: "example.tf".into(),
            import_file: "import.sh".into(),
            extra: vec![("Signature", "f(x)".into())],
        }
    }

    #[test]
    fn fields_and_files_are_filled_in() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("example.tf"), "resource \"notes_note\" \"n\" {}\n").unwrap();
        std::fs::write(root.path().join("import.sh"), "terraform import notes_note.n n1\n").unwrap();
        let page = render(
            "# {{ .Name }} ({{.Type}}) of {{ .ProviderName }}\n{{ .Description }} {{ .Signature }}\n{{ tffile .ExampleFile }}\n{{ codefile \"shell\" .ImportFile }}\n{{ .SchemaMarkdown }}",
            &data(),
            root.path(),
        )
        .unwrap();
        assert_eq!(
            page,
            "# notes_note (Resource) of notes\nA note. f(x)\n```terraform\nresource \"notes_note\" \"n\" {}\n```\n```shell\nterraform import notes_note.n n1\n```\n## Schema\n"
        );
    }

    #[test]
    fn unknown_actions_and_missing_files_are_errors() {
        let root = tempfile::tempdir().unwrap();
        for (template, error) in [
            ("{{ .Nmae }}", "unknown field {{ .Nmae }}"),
            ("{{ include \"x\" }}", "unknown template action {{ include \"x\" }}"),
            ("{{ tffile \"absent.tf\" }}", "absent.tf: "),
            ("{{ .Name ", "unclosed {{ in: {{ .Name "),
        ] {
            let failed = render(template, &data(), root.path()).unwrap_err();
            assert!(failed.starts_with(error), "{template}: {failed}");
        }
    }
}
