//! Generates the registry-format `docs/` from the provider's own schema and the
//! files under `examples/`: one source of truth. `--check` fails when the
//! committed docs differ from what the schema says now.

use std::path::{Path, PathBuf};

use crate::framework::docs::{render, render_schema, TemplateData};
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
        pages.push(schema_page(&TypeKind::RESOURCE, resource.type_name(), resource.schema())?);
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
    for function in provider.functions() {
        pages.push(function_page(root, function.as_ref())?);
    }
    pages.extend(guides(root));
    Ok(pages)
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

/// Writes the pages; with `check`, writes nothing and lists the stale ones.
pub fn generate(root: &Path, check: bool) -> Result<Vec<PathBuf>, std::io::Error> {
    let mut stale = Vec::new();
    for page in pages(root).map_err(std::io::Error::other)? {
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
