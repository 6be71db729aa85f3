//! Logs as go-plugin reads them: one JSON object per line on stderr, with `@level`,
//! `@message`, `@timestamp` (exactly six fractional digits) and `@module`.
//!
//! The level comes from TF_LOG_PROVIDER_IAMKEY, TF_LOG_PROVIDER or TF_LOG, the
//! variables Terraform itself filters by. Other crates (the AWS SDK, hyper, rustls)
//! are capped at WARN whatever the level: their DEBUG/TRACE output can include
//! request and response bodies, and a CreateAccessKey response holds the secret.
//! Panics are reported by location only; the payload might hold a secret.

use std::io::Write;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

const OWN_TARGET: &str = "iamkey";

/// The level Terraform would show for this provider, from the environment.
pub fn level_from_env() -> LevelFilter {
    ["TF_LOG_PROVIDER_IAMKEY", "TF_LOG_PROVIDER", "TF_LOG"].iter().find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty())).map_or(
        LevelFilter::OFF,
        |v| match v.trim().to_ascii_lowercase().as_str() {
            "trace" | "json" | "1" => LevelFilter::TRACE,
            "debug" => LevelFilter::DEBUG,
            "info" => LevelFilter::INFO,
            "warn" => LevelFilter::WARN,
            "error" => LevelFilter::ERROR,
            "off" => LevelFilter::OFF,
            // An unrecognised value still asks for logs; Terraform treats it as TRACE.
            _ => LevelFilter::TRACE,
        },
    )
}

/// Installs the JSON-lines logger and the redacting panic hook.
pub fn init() {
    // The AWS SDK honours these to log bodies (with secrets) at TRACE. They never
    // take effect in this process. Nothing else runs yet, so this is single-threaded.
    for name in ["LOG_SENSITIVE_BODIES", "LOG_SIGNABLE_BODY"] {
        std::env::remove_var(name);
    }
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        write_line(Level::ERROR, &format!("the provider panicked at {location}"), serde_json::Map::new());
    }));
    let level = level_from_env();
    if level == LevelFilter::OFF {
        return;
    }
    let filter = tracing_subscriber::filter::filter_fn(move |meta| {
        let own = meta.target().starts_with(OWN_TARGET) || meta.target().starts_with("terraform_provider_iamkey");
        let cap = if own { level } else { level.min(LevelFilter::WARN) };
        cap >= *meta.level()
    });
    let _ = tracing_subscriber::registry().with(JsonLines.with_filter(filter)).try_init();
}

struct JsonLines;

/// Fields recorded on a span, kept to be added to every event inside it.
struct SpanFields(serde_json::Map<String, serde_json::Value>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for JsonLines {
    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, id: &tracing::span::Id, ctx: Context<'_, S>) {
        let mut visitor = JsonVisitor::default();
        attrs.record(&mut visitor);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(visitor.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut visitor = JsonVisitor::default();
        event.record(&mut visitor);
        let mut fields = serde_json::Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.clone());
                }
            }
        }
        fields.extend(visitor.fields);
        fields.insert("@module".into(), format!("iamkey.{}", event.metadata().target()).into());
        write_line(*event.metadata().level(), &visitor.message, fields);
    }
}

fn write_line(level: Level, message: &str, mut fields: serde_json::Map<String, serde_json::Value>) {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    let timestamp = time::OffsetDateTime::now_utc().format(&format).unwrap_or_default();
    fields.insert("@level".into(), level.as_str().to_ascii_lowercase().into());
    fields.insert("@message".into(), message.into());
    fields.insert("@timestamp".into(), timestamp.into());
    let mut line = mask_secret_like_runs(&serde_json::Value::Object(fields).to_string());
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// The last line of defence: any run of exactly 40 base64 characters (the shape of
/// a secret access key) is masked, as aws-sdk-go-base's MaskAWSSecretKeys does.
pub fn mask_secret_like_runs(line: &str) -> String {
    let is_base64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    let mut out = String::with_capacity(line.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 40 {
            out.push_str("***");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in line.chars() {
        if is_base64(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[derive(Default)]
struct JsonVisitor {
    message: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Visit for JsonVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.insert(field.name().into(), text.into());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields.insert(field.name().into(), value.into());
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().into(), value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_character_base64_runs_are_masked_and_nothing_else() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert_eq!(mask_secret_like_runs(&format!("key={secret} id=AKIAIOSFODNN7EXAMPLE")), "key=*** id=AKIAIOSFODNN7EXAMPLE");
        let longer = format!("{secret}X");
        assert_eq!(mask_secret_like_runs(&longer), longer, "41 characters are not a secret's shape");
        assert_eq!(mask_secret_like_runs("\"@timestamp\":\"2026-11-29T07:49:04.123456Z\""), "\"@timestamp\":\"2026-11-29T07:49:04.123456Z\"");
    }

    #[test]
    fn level_follows_the_most_specific_variable() {
        // Reads the process environment: run in one test to avoid races.
        std::env::set_var("TF_LOG", "trace");
        std::env::set_var("TF_LOG_PROVIDER", "info");
        std::env::remove_var("TF_LOG_PROVIDER_IAMKEY");
        assert_eq!(level_from_env(), LevelFilter::INFO);
        std::env::set_var("TF_LOG_PROVIDER_IAMKEY", "debug");
        assert_eq!(level_from_env(), LevelFilter::DEBUG);
        for name in ["TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PROVIDER_IAMKEY"] {
            std::env::remove_var(name);
        }
        assert_eq!(level_from_env(), LevelFilter::OFF);
    }
}
