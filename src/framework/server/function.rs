//! CallFunction.
//!
//! Rules: the function exists; it gets exactly as many arguments as it declares,
//! each decoded with its parameter's type; an error names the argument at fault.
//! The function's own error text is shown as it is; nothing else of it (a panic
//! payload might hold an argument, and an argument may be a secret).

use super::Encoded;
use crate::framework::{FunctionError, Provider};
use crate::value::{Type, Value};

pub fn call_function(provider: &dyn Provider, name: &str, arguments: &[&dyn Encoded]) -> Result<(Value, Type), FunctionError> {
    let failed = |text: String, argument: Option<usize>| FunctionError { text, argument };
    let Some(function) = provider.functions().iter().find(|f| f.name() == name) else {
        return Err(failed(format!("This provider has no function \"{name}\"."), None));
    };
    let parameters = function.parameters();
    if arguments.len() != parameters.len() {
        return Err(failed(format!("{name} takes {} arguments, not {}.", parameters.len(), arguments.len()), None));
    }
    let decoded = arguments
        .iter()
        .zip(parameters)
        .enumerate()
        .map(|(i, (argument, parameter))| {
            argument.decode(&parameter.ty).map_err(|e| failed(format!("The argument sent by Terraform could not be decoded: {e}."), Some(i)))
        })
        .collect::<Result<Vec<Value>, FunctionError>>()?;
    Ok((function.call(&decoded)?, function.return_type()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::{Notes, Undecodable};

    #[test]
    fn calls_and_their_errors() {
        let provider = Notes::provider();
        let text = Value::string("abc");
        let empty = Value::string("");
        assert_eq!(call_function(&provider, "upper", &[&text]), Ok((Value::string("ABC"), Type::String)));
        type Case<'a> = (&'a str, &'a [&'a dyn Encoded], Option<usize>, &'a str);
        let cases: [Case<'_>; 4] = [
            ("lower", &[&text], None, "This provider has no function \"lower\"."),
            ("upper", &[&text, &text], None, "upper takes 1 arguments, not 2."),
            ("upper", &[&Undecodable], Some(0), "The argument sent by Terraform could not be decoded: msgpack: unexpected end of input."),
            ("upper", &[&empty], Some(0), "The text is empty."),
        ];
        for (name, arguments, argument, text) in cases {
            assert_eq!(call_function(&provider, name, arguments), Err(FunctionError { text: text.into(), argument }), "{text}");
        }
    }
}
