//! Registry-format documentation from a schema, in the layout tfplugindocs uses:
//! Required, Optional and Read-Only attributes, then one section per nested block.

mod template;

pub use template::{render, TemplateData};

use std::fmt::Write;

use super::schema::{Attribute, Block, Mode, Nesting, Schema};
use crate::value::Type;

/// The `## Schema` section of a page: the top-level groups, then one
/// "Nested Schema" section (with the anchor its link points to) for every
/// nested block and every attribute whose objects have described fields.
pub fn render_schema(schema: &Schema) -> String {
    let mut out = String::from("## Schema\n\n");
    let mut nested = Vec::new();
    render_block(&schema.block, "", "### ", &mut out, &mut nested);
    while !nested.is_empty() {
        let mut deeper = Vec::new();
        for section in nested {
            match section {
                Nested::Block(path, block) => {
                    let _ = write!(out, "\n<a id=\"{}\"></a>\n### Nested Schema for `{path}`\n\n", anchor("nestedblock", &path));
                    render_block(block, &path, "", &mut out, &mut deeper);
                }
                Nested::Fields(path, attribute) => {
                    let _ = write!(out, "\n<a id=\"{}\"></a>\n### Nested Schema for `{path}`\n\n", anchor("nestedatt", &path));
                    render_fields(attribute, &mut out);
                }
            }
        }
        nested = deeper;
    }
    out
}

/// The `### Identity Schema` section of a resource with an identity: what an
/// `import` block's `identity` takes.
pub fn render_identity_schema(identity: &Schema) -> String {
    let mut out = String::from("### Identity Schema\n\n");
    render_block(&identity.block, "", "#### ", &mut out, &mut Vec::new());
    out
}

/// A section still to render below the current one.
enum Nested<'a> {
    Block(String, &'a Block),
    Fields(String, &'a Attribute),
}

/// The anchor tfplugindocs gives a nested section: `nestedblock--a--b`.
fn anchor(kind: &str, path: &str) -> String {
    format!("{kind}--{}", path.replace('.', "--"))
}

/// A heading of the schema section and which attributes it lists.
type Group = (&'static str, fn(&Attribute) -> bool);

const GROUPS: [Group; 3] = [
    ("Required", |a| a.mode == Mode::Required),
    ("Optional", |a| matches!(a.mode, Mode::Optional | Mode::OptionalComputed)),
    ("Read-Only", |a| a.mode == Mode::Computed),
];

/// One block's attributes by group; nested blocks are listed with the optional
/// attributes. `heading` is `### ` at the top level and empty in a nested
/// section, where tfplugindocs writes `Optional:` as a plain line.
fn render_block<'a>(block: &'a Block, path: &str, heading: &str, out: &mut String, nested: &mut Vec<Nested<'a>>) {
    let child = |name: &str| if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
    for (title, belongs) in GROUPS {
        let attrs: Vec<&Attribute> = block.attributes.iter().filter(|a| belongs(a)).collect();
        let blocks: Vec<_> = if title == "Optional" { block.blocks.iter().collect() } else { Vec::new() };
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = if heading.is_empty() { writeln!(out, "{title}:\n") } else { writeln!(out, "{heading}{title}\n") };
        for a in attrs {
            let mut notes = Vec::new();
            if a.sensitive {
                notes.push("Sensitive".to_string());
            }
            if let Some(default) = a.default.as_ref().and_then(|d| d.as_str()) {
                notes.push(format!("Default `{default}`"));
            }
            if let Some(default) = a.create_default.as_ref().and_then(|d| d.as_str()) {
                notes.push(format!("Default `{default}` when created, then kept as it is"));
            }
            if a.replace_on_change {
                notes.push("Changing it replaces the resource".to_string());
            }
            let notes = if notes.is_empty() { String::new() } else { format!(", {}", notes.join(", ")) };
            let _ = write!(out, "- `{}` ({}{notes}) {}", a.name, type_label(&a.ty), a.description);
            if !a.field_descriptions.is_empty() {
                let path = child(a.name);
                let _ = write!(out, " (see [below for nested schema](#{}))", anchor("nestedatt", &path));
                nested.push(Nested::Fields(path, a));
            }
            out.push('\n');
        }
        for b in blocks {
            let kind = match b.nesting {
                Nesting::Single => "Block, Optional, at most one",
                Nesting::List => "Block List",
            };
            let path = child(b.name);
            let _ = writeln!(out, "- `{}` ({kind}) {} (see [below for nested schema](#{}))", b.name, b.block.description, anchor("nestedblock", &path));
            nested.push(Nested::Block(path, &b.block));
        }
        out.push('\n');
    }
}

/// The fields of an attribute's objects, under its own group's title.
fn render_fields(attribute: &Attribute, out: &mut String) {
    let title = GROUPS.iter().find(|(_, belongs)| belongs(attribute)).map_or("Optional", |(title, _)| title);
    let _ = writeln!(out, "{title}:\n");
    let fields = match object_of(&attribute.ty) {
        Some(Type::Object(fields)) => fields,
        _ => return,
    };
    for (name, description) in attribute.field_descriptions {
        let ty = fields.get(name).map_or("Unknown".to_string(), type_label);
        let _ = writeln!(out, "- `{name}` ({ty}) {description}");
    }
}

/// The object type inside a collection of objects (or the object itself).
fn object_of(ty: &Type) -> Option<&Type> {
    match ty {
        Type::List(inner) | Type::Set(inner) | Type::Map(inner) => object_of(inner),
        Type::Object(_) => Some(ty),
        _ => None,
    }
}

fn type_label(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(t) => format!("List of {}", type_label(t)),
        Type::Set(t) => format!("Set of {}", type_label(t)),
        Type::Map(t) => format!("Map of {}", type_label(t)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    #[test]
    fn attributes_are_grouped_and_annotated() {
        let schema = Schema::new(
            0,
            Block::new("")
                .attribute(Attribute::optional("status", Type::String).default(Value::string("Active")).describe("Key status."))
                .attribute(Attribute::computed("secret", Type::String).sensitive().describe("The secret."))
                .block("inner", Nesting::Single, Block::new("Inner.").attribute(Attribute::required("x", Type::Map(Box::new(Type::String))))),
        );
        let md = render_schema(&schema);
        assert!(md.contains("### Optional\n\n- `status` (String, Default `Active`) Key status."), "{md}");
        assert!(md.contains("### Read-Only\n\n- `secret` (String, Sensitive) The secret."), "{md}");
        assert!(md.contains("- `inner` (Block, Optional, at most one) Inner. (see [below for nested schema](#nestedblock--inner))"), "{md}");
        assert!(md.contains("<a id=\"nestedblock--inner\"></a>\n### Nested Schema for `inner`\n\nRequired:\n\n- `x` (Map of String)"), "{md}");
    }

    #[test]
    fn described_object_fields_get_a_nested_section_of_their_own() {
        let item = Type::Object([("id".into(), Type::String), ("age".into(), Type::Number)].into_iter().collect());
        let schema = Schema::new(
            0,
            Block::new("").attribute(
                Attribute::computed("items", Type::List(Box::new(item))).describe("The items.").describe_fields(&[("id", "Its ID."), ("age", "Its age.")]),
            ),
        );
        let md = render_schema(&schema);
        assert!(md.contains("- `items` (List of Object) The items. (see [below for nested schema](#nestedatt--items))"), "{md}");
        assert!(
            md.contains("<a id=\"nestedatt--items\"></a>\n### Nested Schema for `items`\n\nRead-Only:\n\n- `id` (String) Its ID.\n- `age` (Number) Its age.\n"),
            "{md}"
        );
    }

    #[test]
    fn the_identity_schema_is_its_own_section() {
        let identity = Schema::new(0, Block::new("").attribute(Attribute::required("key_id", Type::String).describe("The key.")));
        assert_eq!(render_identity_schema(&identity), "### Identity Schema\n\n#### Required\n\n- `key_id` (String) The key.\n\n");
    }
}
