//! Generates the registry-format `docs/` from the provider's own schema and the
//! files under `examples/`: one source of truth. `--check` fails when the
//! committed docs differ from what the schema says now.

use std::path::{Path, PathBuf};

use crate::framework::docs::render_schema;
use crate::framework::Provider;
use crate::provider::IamKeyProvider;

/// One generated page: where it goes and what it says.
pub struct Page {
    pub path: PathBuf,
    pub content: String,
}

fn read_example(root: &Path, relative: &str) -> String {
    std::fs::read_to_string(root.join(relative)).unwrap_or_else(|_| format!("# missing example: {relative}\n"))
}

/// A page's front matter, as the registry reads it. The index page has no
/// subcategory; every other page has one (empty: listed under its kind).
fn front_matter(title: &str, description: &str) -> String {
    index_front_matter(title, description).replacen("\ndescription:", "\nsubcategory: \"\"\ndescription:", 1)
}

fn index_front_matter(title: &str, description: &str) -> String {
    format!("---\npage_title: \"{title}\"\ndescription: |-\n  {description}\n---\n\n")
}

/// Which Terraform and OpenTofu releases serve each feature (plugin protocol 6).
const SUPPORTED_VERSIONS: &str = "## Supported Terraform and OpenTofu versions\n\n\
The provider speaks plugin protocol 6 and is tested with Terraform 1.15.5.\n\n\
| Feature | Terraform | OpenTofu |\n\
|---|---|---|\n\
| provider configuration, `iamkey_access_key` (create, read, update, delete, import) | 1.6 and later | 1.6 and later |\n\
| `import` blocks (by `USER/ID` or ID) | 1.6 and later | 1.6 and later |\n\
| `removed` blocks (moving from `aws_iam_access_key`, see the guide) | 1.7 and later | 1.7 and later |\n\
| `moved` from `aws_iam_access_key` (state and secret carried over) | 1.8 and later | 1.8 and later |\n\
| data source `iamkey_access_keys`; `description` and `last_used_*` | 1.6 and later | 1.6 and later |\n\
| resource identity, `import` blocks with `identity` | 1.12 and later | 1.12 and later |\n\
| list resource `iamkey_access_key` (`terraform query`, `-generate-config-out`) | 1.14 and later | not supported |\n\
| function `provider::iamkey::ses_smtp_password_v4`; `ses_smtp_regions` | 1.8 and later | 1.7 and later |\n\
| ephemeral resource `iamkey_access_key` | 1.10 and later | 1.11 and later |\n";

/// Every page of `docs/`, from the schema and `examples/` under `root`.
pub fn pages(root: &Path) -> Vec<Page> {
    let provider = IamKeyProvider::new();
    let mut pages = Vec::new();
    let index = format!(
        "{}# iamkey Provider\n\n{}\n\n## Example Usage\n\n```terraform\n{}```\n\n{}\n{}",
        index_front_matter("iamkey Provider", "Manages AWS IAM access keys."),
        provider.schema().block.description,
        read_example(root, "examples/provider/provider.tf"),
        SUPPORTED_VERSIONS,
        render_schema(provider.schema()),
    );
    pages.push(Page { path: "docs/index.md".into(), content: index });
    for resource in provider.resources() {
        let name = resource.type_name();
        let short = name.trim_start_matches("iamkey_");
        let dir = format!("examples/resources/{name}");
        let content = format!(
            "{}# {name} (Resource)\n\n{}\n\n~> **Secrets in state.** Unless `pgp_key` is set, `secret` and `ses_smtp_password_v4` are \
             stored in the Terraform state in plain text (marked sensitive, so never printed). Protect the state backend, or set \
             `pgp_key`.\n\n-> **Two keys per user.** IAM allows each user 2 access keys. A plan that would create a third fails at plan time, \
             listing the user's keys with their age and last use. A replacement reuses the old key's slot, because Terraform deletes \
             the old key first; with `create_before_destroy` it needs a free slot, and apply stops before creating anything if there \
             is none.\n\n~> **Keys for the caller, never root by accident.** With `user` omitted the key is for the identity \
             that signs the provider's requests, and the plan shows its user name. A role, assumed-role or federated caller owns no \
             keys: the plan fails and asks for `user`. The account's root user fails the same way unless `allow_root_key = true`: \
             a root access key has full, unrestrictable control of the account, and AWS recommends never creating one.\n\n## Example Usage\n\n```terraform\n{}```\n\n{}\n## Import\n\nImport by access key ID, or by `USER/ACCESS_KEY_ID` \
             (which saves one IAM call). IAM returns a key's secret only when the key is created, so after import `secret`, \
             `ses_smtp_password_v4`, `encrypted_secret`, `encrypted_ses_smtp_password_v4` and `key_fingerprint` are null.\n\n\
             ```shell\n{}```\n\n\
             With Terraform 1.12 and later, an `import` block can name the key by its identity instead (`user` and `account_id` \
             are optional; `account_id` must match the provider's credentials):\n\n\
             ```terraform\nimport {{\n  to       = iamkey_access_key.example\n  identity = {{\n    user          = \"deploy-bot\"\n    \
             access_key_id = \"AKIAIOSFODNN7EXAMPLE\"\n  }}\n}}\n```\n",
            front_matter(&format!("{name} Resource - iamkey"), resource.schema().block.description),
            resource.schema().block.description,
            read_example(root, &format!("{dir}/resource.tf")),
            render_schema(resource.schema()),
            read_example(root, &format!("{dir}/import.sh")),
        );
        pages.push(Page { path: format!("docs/resources/{short}.md").into(), content });
    }
    for data_source in provider.data_sources() {
        pages.push(type_page(root, TypeKind::DATA_SOURCE, data_source.type_name(), data_source.schema(), ""));
    }
    for ephemeral in provider.ephemeral_resources() {
        let notes = "Ephemeral resources need Terraform 1.10 or later (OpenTofu 1.11 or later). Every key opened carries a marker, \
             a tag of its user named after the key (value `iamkey-ephemeral expires=TIME`); a run that opens a key for a user \
             first deletes that user's expired marked keys, so a crashed run leaves nothing behind for long. The user needs a free \
             slot of the 2 keys IAM allows.";
        pages.push(type_page(root, TypeKind::EPHEMERAL_RESOURCE, ephemeral.type_name(), ephemeral.schema(), notes));
    }
    for list in provider.list_resources() {
        let notes = "Use it in a `.tfquery.hcl` file with Terraform 1.14 or later. Each result carries the key's identity and, with \
             `include_resource = true`, its state without any secret; `terraform query -generate-config-out=FILE` writes a \
             `resource` and an `import` block for each.";
        pages.push(type_page(root, TypeKind::LIST_RESOURCE, list.type_name(), list.schema(), notes));
    }
    for function in provider.functions() {
        let name = function.name();
        let type_name = |ty: &crate::value::Type| match ty.to_json() {
            serde_json::Value::String(simple) => simple,
            complex => complex.to_string(),
        };
        let signature: Vec<String> = function.parameters().iter().map(|p| format!("{} {}", p.name, type_name(&p.ty))).collect();
        let arguments: String =
            function.parameters().iter().enumerate().map(|(i, p)| format!("{}. `{}` ({}) {}\n", i + 1, p.name, type_name(&p.ty), p.description)).collect();
        let content = format!(
            "{}# function: {name}\n\n{}\n\nProvider functions need Terraform 1.8 or later (OpenTofu 1.7 or later).\n\n\
             ## Example Usage\n\n```terraform\n{}```\n\n## Signature\n\n```text\n{name}({}) {}\n```\n\n## Arguments\n\n{arguments}",
            front_matter(&format!("{name} function - iamkey"), function.summary()),
            function.description(),
            read_example(root, &format!("examples/functions/{name}/function.tf")),
            signature.join(", "),
            type_name(&function.return_type()),
        );
        pages.push(Page { path: format!("docs/functions/{name}.md").into(), content });
    }
    pages.extend(guides(root));
    pages
}

/// A kind of type with a page of its own: its title, and where its docs and
/// examples live (the registry's layout).
struct TypeKind {
    title: &'static str,
    folder: &'static str,
    example: &'static str,
}

impl TypeKind {
    const DATA_SOURCE: TypeKind = TypeKind { title: "Data Source", folder: "data-sources", example: "data-source.tf" };
    const EPHEMERAL_RESOURCE: TypeKind = TypeKind { title: "Ephemeral Resource", folder: "ephemeral-resources", example: "ephemeral-resource.tf" };
    const LIST_RESOURCE: TypeKind = TypeKind { title: "List Resource", folder: "list-resources", example: "list-resource.tfquery.hcl" };
}

/// The page of one type: description, notes, its example, its schema.
fn type_page(root: &Path, kind: TypeKind, name: &str, schema: &crate::framework::schema::Schema, notes: &str) -> Page {
    let short = name.trim_start_matches("iamkey_");
    let notes = if notes.is_empty() { String::new() } else { format!("{notes}\n\n") };
    let content = format!(
        "{}# {name} ({})\n\n{}\n\n{notes}## Example Usage\n\n```terraform\n{}```\n\n{}",
        front_matter(&format!("{name} {} - iamkey", kind.title), schema.block.description),
        kind.title,
        schema.block.description,
        read_example(root, &format!("examples/{}/{name}/{}", kind.folder, kind.example)),
        render_schema(schema),
    );
    Page { path: format!("docs/{}/{short}.md", kind.folder).into(), content }
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
    for page in pages(root) {
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
