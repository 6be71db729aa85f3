//! Registry-format documentation from a schema, in the layout tfplugindocs uses:
//! Required, Optional and Read-Only attributes, then one section per nested block.

mod template;

pub use template::{render, TemplateData};

use std::fmt::Write;

use super::schema::{Attribute, Block, Mode, Nesting, Schema};
use crate::value::Type;

/// The `## Schema` section of a page.
pub fn render_schema(schema: &Schema) -> String {
    let mut out = String::from("## Schema\n\n");
    render_block(&schema.block, &mut out);
    let mut pending: Vec<(String, &Block)> = schema.block.blocks.iter().map(|b| (b.name.to_string(), &b.block)).collect();
    while let Some((path, block)) = pending.first().cloned() {
        pending.remove(0);
        let _ = write!(out, "\n<a id=\"nestedblock--{}\"></a>\n### Nested Schema for `{path}`\n\n", path.replace('.', "--"));
        render_block(block, &mut out);
        pending.extend(block.blocks.iter().map(|b| (format!("{path}.{}", b.name), &b.block)));
    }
    out
}

/// A heading of the schema section and which attributes it lists.
type Group = (&'static str, fn(&Attribute) -> bool);

fn render_block(block: &Block, out: &mut String) {
    let groups: [Group; 3] = [
        ("Required", |a| a.mode == Mode::Required),
        ("Optional", |a| matches!(a.mode, Mode::Optional | Mode::OptionalComputed)),
        ("Read-Only", |a| a.mode == Mode::Computed),
    ];
    for (title, belongs) in groups {
        let attrs: Vec<&Attribute> = block.attributes.iter().filter(|a| belongs(a)).collect();
        let blocks: Vec<_> = if title == "Optional" { block.blocks.iter().collect() } else { Vec::new() };
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for a in attrs {
            let mut notes = Vec::new();
            if a.sensitive {
                notes.push("Sensitive".to_string());
            }
            if let Some(default) = a.default.as_ref().and_then(|d| d.as_str()) {
                notes.push(format!("Default `{default}`"));
            }
            if a.replace_on_change {
                notes.push("Changing it replaces the resource".to_string());
            }
            let notes = if notes.is_empty() { String::new() } else { format!(", {}", notes.join(", ")) };
            let _ = writeln!(out, "- `{}` ({}{notes}) {}", a.name, type_label(&a.ty), a.description);
        }
        for b in blocks {
            let kind = match b.nesting {
                Nesting::Single => "Block, Optional, at most one",
                Nesting::List => "Block List",
            };
            let _ = writeln!(out, "- `{}` ({kind}) {} (see [below for nested schema](#nestedblock--{}))", b.name, b.block.description, b.name);
        }
        out.push('\n');
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
        assert!(md.contains("### Nested Schema for `inner`\n\n### Required\n\n- `x` (Map of String)"), "{md}");
    }
}
