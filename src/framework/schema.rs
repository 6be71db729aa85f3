//! Schemas as data. A resource declares its schema once; validation, planning,
//! `providers schema -json` (through the protocol layer) and the generated docs all
//! read that one declaration.

use crate::value::summary;
use crate::value::{AttributePath, Diagnostics};
use crate::value::{Name, NameMap, Type, Value};

/// A validation rule for one attribute's known, non-null value. It returns the
/// reason the value is invalid; the reason must not quote the value if the
/// attribute is sensitive.
pub type Validator = fn(&Value) -> Result<(), String>;

/// The most of a validator's reason a diagnostic shows: a reason may echo the
/// value, and a value may be megabytes long.
const MAX_REASON_CHARS: usize = 400;

/// `reason`, cut to MAX_REASON_CHARS with a note of its full length.
fn bounded(reason: String) -> String {
    let total = reason.chars().count();
    if total <= MAX_REASON_CHARS {
        return reason;
    }
    let kept: String = reason.chars().take(MAX_REASON_CHARS).collect();
    format!("{kept}… (cut here: {total} characters in all)")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    Computed,
    /// Optional in configuration; the provider fills it when configuration leaves it null.
    OptionalComputed,
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
    pub mode: Mode,
    pub sensitive: bool,
    /// Planned when configuration leaves the attribute null (the attribute is then
    /// also computed on the wire).
    pub default: Option<Value>,
    /// Planned for a new object when configuration leaves the attribute null; an
    /// existing object keeps the value it has (drift is not reverted). Computed
    /// on the wire.
    pub create_default: Option<Value>,
    /// A change of this attribute replaces the object instead of updating it.
    pub replace_on_change: bool,
    pub validators: Vec<Validator>,
    /// What each field of an object-typed attribute (or of the objects of a
    /// list, set or map) means: the docs list them as a nested schema.
    pub field_descriptions: &'static [(&'static str, &'static str)],
    /// Where an object of the block's type keeps this attribute: its index among
    /// the block's names in name order (set by `Schema::new`). Lookups try it
    /// first, so reading a value of the schema's type costs no search.
    pub slot: usize,
}

impl Attribute {
    fn new(name: &'static str, ty: Type, mode: Mode) -> Self {
        Attribute {
            name,
            ty,
            description: "",
            mode,
            sensitive: false,
            default: None,
            create_default: None,
            replace_on_change: false,
            validators: Vec::new(),
            field_descriptions: &[],
            slot: 0,
        }
    }

    pub fn required(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Mode::Required)
    }

    pub fn optional(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Mode::Optional)
    }

    pub fn computed(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Mode::Computed)
    }

    pub fn optional_computed(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty, Mode::OptionalComputed)
    }

    pub fn describe(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    /// Describes the fields of the attribute's objects, in the order the docs list them.
    pub fn describe_fields(mut self, fields: &'static [(&'static str, &'static str)]) -> Self {
        self.field_descriptions = fields;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self.mode = Mode::OptionalComputed;
        self
    }

    /// As `default`, but for new objects only: when configuration leaves the
    /// attribute null, an existing object keeps what it has.
    pub fn default_on_create(mut self, value: Value) -> Self {
        self.create_default = Some(value);
        self.mode = Mode::OptionalComputed;
        self
    }

    pub fn replace_on_change(mut self) -> Self {
        self.replace_on_change = true;
        self
    }

    pub fn validate(mut self, validator: Validator) -> Self {
        self.validators.push(validator);
        self
    }

    pub fn is_configurable(&self) -> bool {
        self.mode != Mode::Computed
    }

    pub fn is_computed(&self) -> bool {
        matches!(self.mode, Mode::Computed | Mode::OptionalComputed)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; its value is an object or null.
    Single,
    /// Any number of blocks, kept in order; its value is a list of objects.
    List,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: &'static str,
    pub nesting: Nesting,
    pub block: Block,
    /// As `Attribute::slot`.
    pub slot: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    pub fn new(description: &'static str) -> Self {
        Block { description, ..Default::default() }
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn block(mut self, name: &'static str, nesting: Nesting, block: Block) -> Self {
        self.blocks.push(NestedBlock { name, nesting, block, slot: 0 });
        self
    }

    /// Sets each attribute's and nested block's `slot`, in this block and below: its
    /// index in the block's value type, the one order every value of it keeps.
    fn assign_slots(&mut self) {
        let Type::Object(fields) = self.value_type() else { return };
        let slot = |name: &str| fields.keys().position(|known| known == name).unwrap_or_default();
        for attr in &mut self.attributes {
            attr.slot = slot(attr.name);
        }
        for nested in &mut self.blocks {
            nested.slot = slot(nested.name);
            nested.block.assign_slots();
        }
    }

    /// The object type of values in this block's shape.
    pub fn value_type(&self) -> Type {
        let mut fields: NameMap<Type> = self.attributes.iter().map(|a| (Name::Borrowed(a.name), a.ty.clone())).collect();
        for nested in &self.blocks {
            let object = nested.block.value_type();
            let ty = match nested.nesting {
                Nesting::Single => object,
                Nesting::List => Type::List(Box::new(object)),
            };
            fields.insert(Name::Borrowed(nested.name), ty);
        }
        Type::Object(fields)
    }

    pub fn attribute_named(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Checks a configuration against this block: required attributes, computed-only
    /// attributes left unset, and each attribute's validators. Unknown values are
    /// skipped: they are checked again once known.
    pub fn validate(&self, config: &Value, at: &AttributePath, diags: &mut Diagnostics) {
        self.check(config, at, Check::Configuration, diags)
    }

    fn check(&self, value_of: &Value, at: &AttributePath, check: Check, diags: &mut Diagnostics) {
        for attr in &self.attributes {
            // Built only for a diagnostic: most values pass, and a path allocates.
            let path = || at.clone().attribute(attr.name);
            let value = value_of.get_at(attr.slot, attr.name);
            match (attr.mode, value) {
                // A planned state holds computed values: only the validators apply.
                (_, v) if check == Check::ValuesOnly && (v.is_null() || !v.is_wholly_known()) => {}
                (Mode::Required, Value::Null) => diags.add_error_at(
                    path(),
                    summary::MISSING_REQUIRED_ARGUMENT,
                    format!("The argument \"{}\" is required, but no definition was found.", attr.name),
                ),
                (Mode::Computed, v) if check == Check::Configuration && !v.is_null() => diags.add_error_at(
                    path(),
                    summary::VALUE_FOR_UNCONFIGURABLE_ATTRIBUTE,
                    format!("Can't configure a value for \"{}\": its value is decided by the provider.", attr.name),
                ),
                (_, v) if v.is_null() || !v.is_wholly_known() => {}
                (_, v) => {
                    for validator in &attr.validators {
                        if let Err(reason) = validator(v) {
                            diags.add_error_at(path(), summary::INVALID_VALUE_FOR.fill(&[("name", attr.name)]), bounded(reason));
                        }
                    }
                }
            }
        }
        for nested in &self.blocks {
            let value = value_of.get_at(nested.slot, nested.name);
            let path = || at.clone().attribute(nested.name);
            match (nested.nesting, value) {
                (Nesting::Single, v @ Value::Object(_)) => nested.block.check(v, &path(), check, diags),
                (Nesting::List, Value::List(items)) => {
                    let path = path();
                    for (i, item) in items.iter().enumerate() {
                        nested.block.check(item, &path.clone().index(i as i64), check, diags);
                    }
                }
                _ => {}
            }
        }
    }
}

/// The schema of a provider, resource or data source.
#[derive(Clone, Debug)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
    /// The block's object type, derived once: every RPC decodes with it.
    value_type: Type,
}

impl Schema {
    pub fn new(version: i64, mut block: Block) -> Self {
        block.assign_slots();
        let value_type = block.value_type();
        Schema { version, block, value_type }
    }

    pub fn value_type(&self) -> &Type {
        &self.value_type
    }

    pub fn validate(&self, config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        self.block.validate(config, &AttributePath::default(), &mut diags);
        diags
    }

    /// Runs the attributes' validators over a planned state (which, unlike a
    /// configuration, holds computed values): apply re-checks what it will send.
    pub fn validate_planned(&self, planned: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        self.block.check(planned, &AttributePath::default(), Check::ValuesOnly, &mut diags);
        diags
    }
}

/// What a block check covers.
#[derive(Clone, Copy, PartialEq)]
enum Check {
    /// A configuration: required and computed-only rules, then the validators.
    Configuration,
    /// A planned or prior state: the validators only.
    ValuesOnly,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn non_empty(v: &Value) -> Result<(), String> {
        if v.as_str().is_some_and(str::is_empty) {
            Err("must not be empty".into())
        } else {
            Ok(())
        }
    }

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new("test")
                .attribute(Attribute::required("name", Type::String).validate(non_empty))
                .attribute(Attribute::computed("id", Type::String))
                .block("inner", Nesting::Single, Block::new("").attribute(Attribute::optional("x", Type::String).validate(non_empty))),
        )
    }

    #[test]
    fn validation_names_the_attribute_path() {
        let mut config = Value::Null;
        config.set("name", Value::string(""));
        let mut inner = Value::Null;
        inner.set("x", Value::string(""));
        config.set("inner", inner);
        config.set("id", Value::string("set by user"));
        let diags = schema().validate(&config);
        let paths: Vec<String> = diags.iter().map(|d| d.path.clone().unwrap().to_string()).collect();
        assert_eq!(paths, ["name", "id", "inner.x"]);
    }

    #[test]
    fn each_attribute_and_block_knows_where_a_value_of_the_schema_keeps_it() {
        let schema = schema();
        let Type::Object(fields) = schema.value_type() else { panic!("a block's type is an object") };
        let names: Vec<&str> = fields.keys().map(|k| k.as_ref()).collect();
        assert_eq!(names, ["id", "inner", "name"]);
        let slots: Vec<(&str, usize)> =
            schema.block.attributes.iter().map(|a| (a.name, a.slot)).chain(schema.block.blocks.iter().map(|b| (b.name, b.slot))).collect();
        assert_eq!(slots, [("name", 2), ("id", 0), ("inner", 1)]);
        assert_eq!(schema.block.blocks[0].block.attributes[0].slot, 0);
    }

    #[test]
    fn unknown_values_are_not_validated_yet() {
        let mut config = Value::Null;
        config.set("name", Value::Unknown);
        assert!(schema().validate(&config).is_empty());
    }

    #[test]
    fn a_huge_value_echoed_by_a_validator_is_cut_with_its_length() {
        fn echoes(v: &Value) -> Result<(), String> {
            Err(format!("{:?} is not allowed", v.as_str().unwrap_or_default()))
        }
        let block = Block::new("").attribute(Attribute::optional("status", Type::String).validate(echoes));
        let mut config = Value::Null;
        config.set("status", Value::string("x".repeat(1 << 20)));
        let mut diags = Diagnostics::new();
        block.validate(&config, &AttributePath::default(), &mut diags);
        let detail = &diags.first().unwrap().detail;
        assert!(detail.chars().count() < MAX_REASON_CHARS + 60, "{} characters", detail.len());
        let full = format!("{:?} is not allowed", "x".repeat(1 << 20)).chars().count();
        assert!(detail.ends_with(&format!("(cut here: {full} characters in all)")), "{}", &detail[detail.len() - 60..]);
    }

    #[test]
    fn missing_required_attribute_is_reported() {
        let diags = schema().validate(&Value::Object(Default::default()));
        assert_eq!(diags.first().unwrap().summary, "Missing required argument");
    }
}
