//! Generates the registry-format `docs/` from the provider's own schema and the
//! files under `examples/`: one source of truth. `--check` fails when the
//! committed docs differ from what the schema says now.

use std::path::{Path, PathBuf};

use crate::framework::docs::{render, render_identity_schema, render_schema, TemplateData};
use crate::framework::schema::Schema;
use crate::framework::{Function, Provider};
use crate::provider::IamKeyProvider;
use crate::value::Type;

/// One generated page: where it goes and what it says.
pub struct Page {
    pub path: PathBuf,
    pub content: String,
}

/// The provider's local name, as page titles use it.
const PROVIDER_NAME: &str = "iamkey";

/// A kind of type with pages of its own: its title, and where its template,
/// docs and examples live (the registry's layout).
struct TypeKind {
    title: &'static str,
    folder: &'static str,
    example: &'static str,
    /// The page when `templates/<folder>/<name>.md.tmpl` does not exist.
    default_template: &'static str,
}

/// The page of a type without a template of its own: nothing but what the
/// schema and the example say.
const DEFAULT_TYPE_TEMPLATE: &str = "---\npage_title: \"{{ .Name }} {{ .Type }} - {{ .ProviderName }}\"\nsubcategory: \"\"\n\
description: |-\n  {{ .Description }}\n---\n\n# {{ .Name }} ({{ .Type }})\n\n{{ .Description }}\n\n## Example Usage\n\n\
{{ tffile .ExampleFile }}\n\n{{ .SchemaMarkdown }}";

const DEFAULT_RESOURCE_TEMPLATE: &str = "---\npage_title: \"{{ .Name }} {{ .Type }} - {{ .ProviderName }}\"\nsubcategory: \"\"\n\
description: |-\n  {{ .Description }}\n---\n\n# {{ .Name }} ({{ .Type }})\n\n{{ .Description }}\n\n## Example Usage\n\n\
{{ tffile .ExampleFile }}\n\n{{ .SchemaMarkdown }}\n## Import\n\n{{ codefile \"shell\" .ImportFile }}\n";

const DEFAULT_FUNCTION_TEMPLATE: &str = "---\npage_title: \"{{ .Name }} function - {{ .ProviderName }}\"\nsubcategory: \"\"\n\
description: |-\n  {{ .Summary }}\n---\n\n# function: {{ .Name }}\n\n{{ .Description }}\n\n\
Provider functions need Terraform 1.8 or later (OpenTofu 1.7 or later).\n\n## Example Usage\n\n{{ tffile .ExampleFile }}\n\n\
## Signature\n\n{{ .FunctionSignatureMarkdown }}\n\n## Arguments\n\n{{ .FunctionArgumentsMarkdown }}";

impl TypeKind {
    const RESOURCE: TypeKind = TypeKind { title: "Resource", folder: "resources", example: "resource.tf", default_template: DEFAULT_RESOURCE_TEMPLATE };
    const DATA_SOURCE: TypeKind = TypeKind { title: "Data Source", folder: "data-sources", example: "data-source.tf", default_template: DEFAULT_TYPE_TEMPLATE };
    const EPHEMERAL_RESOURCE: TypeKind =
        TypeKind { title: "Ephemeral Resource", folder: "ephemeral-resources", example: "ephemeral-resource.tf", default_template: DEFAULT_TYPE_TEMPLATE };
    const LIST_RESOURCE: TypeKind =
        TypeKind { title: "List Resource", folder: "list-resources", example: "list-resource.tfquery.hcl", default_template: DEFAULT_TYPE_TEMPLATE };
    const ACTION: TypeKind = TypeKind { title: "Action", folder: "actions", example: "action.tf", default_template: DEFAULT_TYPE_TEMPLATE };
    const FUNCTION: TypeKind = TypeKind { title: "function", folder: "functions", example: "function.tf", default_template: DEFAULT_FUNCTION_TEMPLATE };
}

/// Renders one page: the type's template if it has one, else its kind's default.
fn page(root: &Path, kind: &TypeKind, name: &str, description: &str, schema_markdown: String, extra: Vec<(&'static str, String)>) -> Result<Page, String> {
    let short = name.strip_prefix("iamkey_").unwrap_or(name);
    let template_path = format!("templates/{}/{short}.md.tmpl", kind.folder);
    let template = std::fs::read_to_string(root.join(&template_path)).unwrap_or_else(|_| kind.default_template.to_string());
    let data = TemplateData {
        provider_name: PROVIDER_NAME,
        name,
        kind: kind.title,
        description,
        schema_markdown,
        example_file: format!("examples/{}/{name}/{}", kind.folder, kind.example),
        import_file: format!("examples/{}/{name}/import.sh", kind.folder),
        extra,
    };
    let content = render(&template, &data, root).map_err(|e| format!("{template_path}: {e}"))?;
    Ok(Page { path: format!("docs/{}/{short}.md", kind.folder).into(), content })
}

/// Every page of `docs/`, from the schema, `templates/` and `examples/` under `root`.
pub fn pages(root: &Path) -> Result<Vec<Page>, String> {
    let provider = IamKeyProvider::new();
    let index_data = TemplateData {
        provider_name: PROVIDER_NAME,
        name: PROVIDER_NAME,
        kind: "Provider",
        description: provider.schema().block.description,
        schema_markdown: render_schema(provider.schema()),
        example_file: "examples/provider/provider.tf".into(),
        import_file: String::new(),
        extra: Vec::new(),
    };
    let index_template = std::fs::read_to_string(root.join("templates/index.md.tmpl")).map_err(|e| format!("templates/index.md.tmpl: {e}"))?;
    let mut pages = vec![Page { path: "docs/index.md".into(), content: render(&index_template, &index_data, root)? }];
    let schema_page = |kind: &TypeKind, name: &str, schema: &Schema| page(root, kind, name, schema.block.description, render_schema(schema), Vec::new());
    for resource in provider.resources() {
        let (name, schema) = (resource.type_name(), resource.schema());
        pages.push(page(root, &TypeKind::RESOURCE, name, schema.block.description, render_schema(schema), import_fields(name, resource.identity_schema()))?);
    }
    for data_source in provider.data_sources() {
        pages.push(schema_page(&TypeKind::DATA_SOURCE, data_source.type_name(), data_source.schema())?);
    }
    for ephemeral in provider.ephemeral_resources() {
        pages.push(schema_page(&TypeKind::EPHEMERAL_RESOURCE, ephemeral.type_name(), ephemeral.schema())?);
    }
    for list in provider.list_resources() {
        pages.push(schema_page(&TypeKind::LIST_RESOURCE, list.type_name(), list.schema())?);
    }
    for action in provider.actions() {
        pages.push(schema_page(&TypeKind::ACTION, action.type_name(), action.schema())?);
    }
    for function in provider.functions() {
        pages.push(function_page(root, function.as_ref())?);
    }
    pages.extend(guides(root));
    Ok(pages)
}

/// What a resource's template can say about import, in tfplugindocs' names: the
/// `import` block examples beside `import.sh`, and the identity schema.
fn import_fields(name: &str, identity: Option<&Schema>) -> Vec<(&'static str, String)> {
    let folder = format!("examples/{}/{name}", TypeKind::RESOURCE.folder);
    let mut fields = vec![("ImportIDConfigFile", format!("{folder}/import-by-string-id.tf"))];
    if let Some(identity) = identity {
        fields.push(("ImportIdentityConfigFile", format!("{folder}/import-by-identity.tf")));
        fields.push(("IdentitySchemaMarkdown", render_identity_schema(identity)));
    }
    fields
}

fn function_page(root: &Path, function: &dyn Function) -> Result<Page, String> {
    let name = function.name();
    let type_name = |ty: &Type| match ty.to_json() {
        serde_json::Value::String(simple) => simple,
        complex => complex.to_string(),
    };
    let signature: Vec<String> = function.parameters().iter().map(|p| format!("{} {}", p.name, type_name(&p.ty))).collect();
    let arguments: String =
        function.parameters().iter().enumerate().map(|(i, p)| format!("{}. `{}` ({}) {}\n", i + 1, p.name, type_name(&p.ty), p.description)).collect();
    let extra = vec![
        ("Summary", function.summary().to_string()),
        ("FunctionSignatureMarkdown", format!("```text\n{name}({}) {}\n```", signature.join(", "), type_name(&function.return_type()))),
        ("FunctionArgumentsMarkdown", arguments),
    ];
    page(root, &TypeKind::FUNCTION, name, function.description(), String::new(), extra)
}

/// Guides are prose: written under `templates/guides/`, published under `docs/guides/`.
fn guides(root: &Path) -> Vec<Page> {
    let Ok(entries) = std::fs::read_dir(root.join("templates/guides")) else { return Vec::new() };
    let mut pages: Vec<Page> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .filter_map(|e| {
            let content = std::fs::read_to_string(e.path()).ok()?;
            Some(Page { path: Path::new("docs/guides").join(e.file_name()), content })
        })
        .collect();
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    pages
}

/// The folders of `docs/` the registry reads (the index is `docs/index.md`).
const REGISTRY_FOLDERS: [&str; 7] = ["resources", "data-sources", "ephemeral-resources", "list-resources", "actions", "functions", "guides"];

/// The registry's largest page.
const MAX_PAGE_BYTES: usize = 500 * 1024;

/// Where `page` breaks the registry's rules: the layout, the front matter (the
/// index has `page_title` and `description`; every other page may add
/// `subcategory`, and nothing else is allowed) and the size; and every in-page
/// link (`](#anchor)`) must reach an `<a id="anchor">` or a heading on the page.
pub fn registry_problems(page: &Page) -> Vec<String> {
    let path = page.path.to_string_lossy().replace('\\', "/");
    let is_index = path == "docs/index.md";
    let mut problems = Vec::new();
    let in_a_registry_folder = path
        .strip_prefix("docs/")
        .and_then(|p| p.split_once('/'))
        .is_some_and(|(folder, file)| REGISTRY_FOLDERS.contains(&folder) && !file.contains('/') && file.ends_with(".md"));
    if !is_index && !in_a_registry_folder {
        problems.push(format!("not a registry docs path (docs/index.md or docs/<{}>/<name>.md)", REGISTRY_FOLDERS.join("|")));
    }
    if page.content.len() > MAX_PAGE_BYTES {
        problems.push(format!("{} bytes: the registry takes at most {MAX_PAGE_BYTES}", page.content.len()));
    }
    match front_matter_keys(&page.content) {
        None => problems.push("no front matter (`---` lines at the top)".to_string()),
        Some(keys) => {
            let allowed: &[&str] = if is_index { &["page_title", "description"] } else { &["page_title", "subcategory", "description"] };
            for key in &keys {
                if !allowed.contains(&key.as_str()) {
                    problems.push(format!("front matter key `{key}` is not allowed here (allowed: {})", allowed.join(", ")));
                }
            }
            for required in ["page_title", "description"] {
                if !keys.iter().any(|k| k == required) {
                    problems.push(format!("front matter has no `{required}`"));
                }
            }
        }
    }
    for target in in_page_links(&page.content) {
        if !page.content.contains(&format!("<a id=\"{target}\"></a>")) && !headings(&page.content).any(|slug| slug == target) {
            problems.push(format!("link to #{target}, which is not on the page"));
        }
    }
    problems.into_iter().map(|p| format!("{path}: {p}")).collect()
}

/// The top-level keys of the YAML front matter, or None without one.
fn front_matter_keys(content: &str) -> Option<Vec<String>> {
    let body = content.strip_prefix("---\n")?;
    let end = body.find("\n---\n")?;
    Some(body[..end].lines().filter(|l| !l.starts_with([' ', '\t']) && !l.is_empty()).filter_map(|l| l.split_once(':')).map(|(k, _)| k.to_string()).collect())
}

fn in_page_links(content: &str) -> impl Iterator<Item = &str> {
    content.split("](#").skip(1).filter_map(|rest| rest.split_once(')')).map(|(target, _)| target)
}

/// The anchors Markdown gives headings: lower case, spaces to `-`, other
/// punctuation dropped.
fn headings(content: &str) -> impl Iterator<Item = String> + '_ {
    content.lines().filter_map(|l| l.trim_start_matches('#').strip_prefix(' ').filter(|_| l.starts_with('#'))).map(|title| {
        title
            .to_lowercase()
            .chars()
            .filter_map(|c| {
                if c == ' ' {
                    Some('-')
                } else if c.is_alphanumeric() || c == '-' || c == '_' {
                    Some(c)
                } else {
                    None
                }
            })
            .collect()
    })
}

/// Writes the pages; with `check`, writes nothing and lists the stale ones.
/// Either way a page that breaks the registry's rules, or a file in `docs/` that
/// no page makes, is an error.
pub fn generate(root: &Path, check: bool) -> Result<Vec<PathBuf>, std::io::Error> {
    let pages = pages(root).map_err(std::io::Error::other)?;
    let mut problems: Vec<String> = pages.iter().flat_map(registry_problems).collect();
    for file in files_under(&root.join("docs"))? {
        let relative = file.strip_prefix(root).unwrap_or(&file);
        if !pages.iter().any(|p| p.path == relative) {
            problems.push(format!("{}: no template or schema makes this page (move notes out of docs/)", relative.display()));
        }
    }
    if !problems.is_empty() {
        return Err(std::io::Error::other(format!("the docs break the registry's rules:\n  {}", problems.join("\n  "))));
    }
    let mut stale = Vec::new();
    for page in pages {
        let target = root.join(&page.path);
        let current = std::fs::read_to_string(&target).unwrap_or_default();
        if current == page.content {
            continue;
        }
        stale.push(page.path.clone());
        if !check {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, page.content)?;
        }
    }
    Ok(stale)
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(files) };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(files_under(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str, content: &str) -> Page {
        Page { path: path.into(), content: content.to_string() }
    }

    const FRONT: &str = "---\npage_title: \"x\"\nsubcategory: \"\"\ndescription: |-\n  Text.\n---\n";

    #[test]
    fn every_published_page_keeps_the_registry_rules() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let problems: Vec<String> = pages(root).unwrap().iter().flat_map(registry_problems).collect();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn the_index_has_no_subcategory() {
        let problems = registry_problems(&page("docs/index.md", FRONT));
        assert_eq!(problems, vec!["docs/index.md: front matter key `subcategory` is not allowed here (allowed: page_title, description)"]);
        assert!(registry_problems(&page("docs/resources/x.md", FRONT)).is_empty());
    }

    #[test]
    fn front_matter_is_required_and_closed() {
        let problems = registry_problems(&page("docs/guides/x.md", "# Title\n"));
        assert_eq!(problems, vec!["docs/guides/x.md: no front matter (`---` lines at the top)"]);
        let problems = registry_problems(&page("docs/guides/x.md", "---\npage_title: x\nlayout: y\n---\n"));
        assert!(problems.iter().any(|p| p.contains("`layout` is not allowed")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("no `description`")), "{problems:?}");
    }

    #[test]
    fn pages_live_where_the_registry_reads_them() {
        let problems = registry_problems(&page("docs/design.md", FRONT));
        assert!(problems[0].contains("not a registry docs path"), "{problems:?}");
        let problems = registry_problems(&page("docs/resources/deep/x.md", FRONT));
        assert!(problems[0].contains("not a registry docs path"), "{problems:?}");
    }

    #[test]
    fn in_page_links_must_land() {
        let content = format!("{FRONT}- see [below](#nestedblock--a) and [here](#a-heading)\n\n## A heading\n");
        let problems = registry_problems(&page("docs/resources/x.md", &content));
        assert_eq!(problems, vec!["docs/resources/x.md: link to #nestedblock--a, which is not on the page"]);
        let fixed = format!("{content}\n<a id=\"nestedblock--a\"></a>\n");
        assert!(registry_problems(&page("docs/resources/x.md", &fixed)).is_empty());
    }
}
