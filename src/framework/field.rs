//! Typed accessors for a type's attributes and nested blocks. `fields!` declares
//! a type's names once, as identifiers: each becomes a `Field` constant that the
//! schema declaration names its attribute by and the operations read and write
//! through, so a misspelled attribute is a compile error, not a Null. The slot (the
//! name's index in the type's sorted object) is computed at compile time, so an
//! access costs what a slot lookup costs; and since the schema's attribute names
//! are the fields' own strings, values decoded with the schema share them.

use crate::value::{AttributePath, Value};

/// One attribute or nested block of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    /// The index of `name` among the type's names in sorted order: where values of
    /// the type keep it.
    pub slot: usize,
}

impl Field {
    /// `name`, one of `names` (every name of the type, in any order).
    pub const fn new(name: &'static str, names: &[&'static str]) -> Field {
        let mut slot = 0;
        let mut i = 0;
        while i < names.len() {
            if sorts_before(names[i].as_bytes(), name.as_bytes()) {
                slot += 1;
            }
            i += 1;
        }
        Field { name, slot }
    }

    /// The value in `object` (a value of the type), or null.
    pub fn of(self, object: &Value) -> &Value {
        object.get_at(self.slot, self.name)
    }

    pub fn str(self, object: &Value) -> Option<&str> {
        self.of(object).as_str()
    }

    /// True only for a known `true`.
    pub fn is_true(self, object: &Value) -> bool {
        self.of(object).as_bool() == Some(true)
    }

    pub fn i64(self, object: &Value) -> Option<i64> {
        self.of(object).as_i64()
    }

    pub fn set(self, object: &mut Value, value: Value) {
        object.set_at(self.slot, self.name, value);
    }

    /// The attribute's path, for a diagnostic.
    pub fn path(self) -> AttributePath {
        AttributePath::root(self.name)
    }
}

impl From<Field> for &'static str {
    fn from(field: Field) -> Self {
        field.name
    }
}

/// Byte order, the order names are kept in.
const fn sorts_before(a: &[u8], b: &[u8]) -> bool {
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
        i += 1;
    }
    a.len() < b.len()
}

/// Declares a type's attribute and block names: a module of `Field` constants
/// named as the attributes are, and `NAMES`, every one of them.
///
/// ```ignore
/// fields! { pub(super) mod key { id, user, status } }
/// key::user.str(&state)
/// ```
macro_rules! fields {
    ($(#[$meta:meta])* $vis:vis mod $module:ident { $($name:ident),* $(,)? }) => {
        $(#[$meta])*
        #[allow(non_upper_case_globals)]
        $vis mod $module {
            use $crate::framework::field::Field;
            /// Every attribute and nested block of the type.
            pub const NAMES: &[&str] = &[$(stringify!($name)),*];
            $(pub const $name: Field = Field::new(stringify!($name), NAMES);)*
        }
    };
}

pub(crate) use fields;

/// Whether `block` declares exactly `names` (no more, no fewer): the check a type's
/// unit test makes that its `fields!` and its schema agree, so every slot is right.
pub fn declares_exactly(block: &super::schema::Block, names: &[&str]) -> Result<(), String> {
    let mut declared: Vec<&str> = block.attributes.iter().map(|a| a.name).chain(block.blocks.iter().map(|b| b.name)).collect();
    let mut named: Vec<&str> = names.to_vec();
    declared.sort_unstable();
    named.sort_unstable();
    match declared == named {
        true => Ok(()),
        false => Err(format!("the schema declares {declared:?}, the fields are {named:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, Block, Nesting};
    use crate::value::Type;

    fields! { mod note { text, id, kind, body } }

    #[test]
    fn slots_are_the_sorted_positions_the_schema_gives() {
        assert_eq!([note::body.slot, note::id.slot, note::kind.slot, note::text.slot], [0, 1, 2, 3]);
        let block = Block::new("")
            .attribute(Attribute::optional(note::text.into(), Type::String))
            .attribute(Attribute::computed(note::id.into(), Type::String))
            .attribute(Attribute::optional(note::kind.into(), Type::String))
            .block(note::body.into(), Nesting::Single, Block::new(""));
        let schema = crate::framework::schema::Schema::new(0, block);
        let slot_given = |name: &str| {
            let nested = || schema.block.blocks.iter().find(|b| b.name == name).map(|b| b.slot);
            schema.block.attribute_named(name).map(|a| a.slot).or_else(nested)
        };
        for field in [note::text, note::id, note::kind, note::body] {
            assert_eq!(slot_given(field.name), Some(field.slot), "{field:?}");
        }
        assert_eq!(declares_exactly(&schema.block, note::NAMES), Ok(()));
        assert!(declares_exactly(&Block::new("").attribute(Attribute::optional("text", Type::String)), note::NAMES).is_err());
    }

    #[test]
    fn fields_read_and_write_values_of_the_type() {
        let mut value = Value::object([("id", Value::string("n1")), ("kind", Value::Bool(true))]);
        note::text.set(&mut value, Value::string("hello"));
        assert_eq!((note::text.str(&value), note::id.str(&value), note::kind.is_true(&value)), (Some("hello"), Some("n1"), true));
        assert_eq!(note::body.of(&value), &Value::Null);
        assert_eq!(note::text.path(), AttributePath::root("text"));
        assert!(sorts_before(b"ab", b"b") && sorts_before(b"a", b"ab") && !sorts_before(b"b", b"ab"));
    }
}
