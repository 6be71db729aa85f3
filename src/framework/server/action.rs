//! ValidateActionConfig, PlanAction, InvokeAction.
//!
//! Rules: every RPC validates the configuration again (schema, then the action's
//! own checks) before the action sees it; a plan with values still unknown says
//! nothing yet (it is planned again once they are known); an invoke never runs
//! with an unknown value. Progress goes out as the action reports it.

use super::{decode_valid, unknown_type, Encoded};
use crate::framework::{Action, OpContext, Progress, Provider};
use crate::value::summary;
use crate::value::{Diagnostics, Value};

/// The served action of that name, and its configuration, decoded and validated.
fn validated<'a>(provider: &'a dyn Provider, type_name: &str, config: &dyn Encoded) -> Result<(&'a dyn Action, Value), Diagnostics> {
    let action = provider.action(type_name).map(|a| a.as_ref()).ok_or_else(|| unknown_type("action", type_name))?;
    let config = decode_valid(config, action.schema(), "action configuration")?;
    let mut diags = Diagnostics::new();
    action.validate(&config, &mut diags);
    match diags.has_errors() {
        true => Err(diags),
        false => Ok((action, config)),
    }
}

pub fn validate_action_config(provider: &dyn Provider, type_name: &str, config: &dyn Encoded) -> Diagnostics {
    validated(provider, type_name, config).err().unwrap_or_default()
}

pub async fn plan_action(ctx: &OpContext, provider: &dyn Provider, type_name: &str, config: &dyn Encoded) -> Diagnostics {
    match validated(provider, type_name, config) {
        Err(diags) => diags,
        Ok((_, config)) if !config.is_wholly_known() => Diagnostics::new(),
        Ok((action, config)) => action.plan(ctx, &config).await,
    }
}

pub async fn invoke_action(ctx: &OpContext, provider: &dyn Provider, type_name: &str, config: &dyn Encoded, progress: &Progress) -> Diagnostics {
    match validated(provider, type_name, config) {
        Err(diags) => diags,
        Ok((_, config)) if !config.is_wholly_known() => Diagnostics::error(
            summary::UNKNOWN_VALUE_AT_APPLY,
            "The action's configuration still holds a value that is not known, so the action did nothing. This is a bug in Terraform or in the configuration's dependencies.",
        ),
        Ok((action, config)) => action.invoke(ctx, &config, progress).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::{Notes, NotesProvider};
    use crate::value::AttributePath;

    fn count(times: i64) -> Value {
        Value::object([("times", Value::Number(crate::value::Number::Int(times)))])
    }

    async fn invoked(provider: &NotesProvider, config: Value, ctx: &OpContext) -> (Vec<String>, Diagnostics) {
        Progress::recording(|progress| async move { invoke_action(ctx, provider, "notes_count", &config, &progress).await }).await
    }

    #[tokio::test]
    async fn an_invoke_reports_each_step_in_order_and_a_plan_says_what_it_would_do() {
        let provider = Notes::provider();
        let (lines, diags) = invoked(&provider, count(3), &OpContext::default()).await;
        assert_eq!(lines, ["counted 1", "counted 2", "counted 3"]);
        assert!(diags.is_empty(), "{diags:?}");
        let plan = plan_action(&OpContext::default(), &provider, "notes_count", &count(3)).await;
        assert_eq!(plan.first().unwrap().summary, "Would count", "a dry run speaks as a warning");
        assert!(!plan.has_errors());
    }

    #[tokio::test]
    async fn bad_input_is_refused_at_every_rpc_with_its_path_before_the_action_runs() {
        let provider = Notes::provider();
        let validation = validate_action_config(&provider, "notes_count", &count(-1));
        assert_eq!(validation.first().unwrap().path, Some(AttributePath::root("times")));
        let plan = plan_action(&OpContext::default(), &provider, "notes_count", &count(-1)).await;
        assert_eq!(plan.first().unwrap().path, Some(AttributePath::root("times")));
        let (lines, invoke) = invoked(&provider, count(-1), &OpContext::default()).await;
        assert!(lines.is_empty() && invoke.has_errors(), "nothing ran: {lines:?}");
        assert_eq!(validate_action_config(&provider, "notes_nothing", &count(1)).first().unwrap().summary, "Unknown action type");
    }

    #[tokio::test]
    async fn unknown_values_wait_for_the_plan_that_knows_them_and_never_reach_an_invoke() {
        let provider = Notes::provider();
        let unknown = Value::object([("times", Value::Unknown)]);
        assert!(plan_action(&OpContext::default(), &provider, "notes_count", &unknown).await.is_empty());
        let (lines, diags) = invoked(&provider, unknown, &OpContext::default()).await;
        assert!(lines.is_empty());
        assert_eq!(diags.first().unwrap().summary, "Unknown value at apply");
    }

    #[tokio::test]
    async fn a_cancelled_invoke_stops_between_steps_and_says_so() {
        let provider = Notes::provider();
        let ctx = OpContext::default();
        ctx.cancel.cancel();
        let (lines, diags) = invoked(&provider, count(3), &ctx).await;
        assert!(lines.is_empty(), "{lines:?}");
        assert_eq!(diags.first().unwrap().summary, "Operation cancelled");
    }
}
