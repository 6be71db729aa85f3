//! Attribute paths: where in a resource's object a value (or a diagnostic) is.

use std::fmt;

/// One step into a value: an attribute, a map key or a list index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Attribute(String),
    Key(String),
    Index(i64),
}

/// A path from the root of a resource's object to one of its values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    pub fn root(name: &str) -> Self {
        AttributePath(vec![PathStep::Attribute(name.to_string())])
    }

    pub fn attribute(mut self, name: &str) -> Self {
        self.0.push(PathStep::Attribute(name.to_string()));
        self
    }

    pub fn key(mut self, key: &str) -> Self {
        self.0.push(PathStep::Key(key.to_string()));
        self
    }

    pub fn index(mut self, index: i64) -> Self {
        self.0.push(PathStep::Index(index));
        self
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attribute(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attribute(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_terraform_addresses() {
        let p = AttributePath::root("rotation").attribute("keepers").key("k").index(2);
        assert_eq!(p.to_string(), "rotation.keepers[\"k\"][2]");
    }
}
