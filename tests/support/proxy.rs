//! A fault-injecting, call-counting HTTP proxy between the provider and moto, on
//! 127.0.0.1, one per test (so armed faults never leak into other tests).
//!
//! Each armed rule fires on the next `count` requests whose form field `Action`
//! matches: `Error` answers with an awsQuery error and moto never sees the call;
//! `Drop` closes the connection unforwarded (the call did not execute); `Lost`
//! forwards, then closes without answering (the call executed, its answer is lost);
//! `Delay` waits, then forwards.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

#[derive(Clone, Debug)]
pub enum Fault {
    Error {
        status: u16,
        code: &'static str,
    },
    /// An error that carries `x-amz-retry-after` (milliseconds).
    ErrorRetryAfter {
        status: u16,
        code: &'static str,
        retry_after_ms: u64,
    },
    Drop,
    Lost,
    Delay(Duration),
    /// Forwards, then replaces the secret in the answer: a canary to search for.
    ReplaceSecret(&'static str),
}

struct Rule {
    action: String,
    remaining: usize,
    fault: Fault,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    calls: HashMap<String, usize>,
    /// IAM's rate limit, as `limit_rate` set it: requests per second let through.
    rate_limit: Option<usize>,
    /// When the requests of the last second were let through.
    recent: std::collections::VecDeque<std::time::Instant>,
    throttled: usize,
    /// Connections accepted (for HTTPS, handshakes attempted).
    connections: usize,
    /// Added to every request (of any service) that no rule faults.
    delay_every_request: Option<Duration>,
    /// Requests that reached the proxy, of every service.
    requests: usize,
}

impl State {
    /// Whether a request arriving now is over the rate limit (and so answered
    /// Throttling, as IAM does); one that is not is counted against it.
    fn over_rate_limit(&mut self) -> bool {
        let Some(limit) = self.rate_limit else { return false };
        let now = std::time::Instant::now();
        while self.recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            self.recent.pop_front();
        }
        if self.recent.len() >= limit {
            self.throttled += 1;
            return true;
        }
        self.recent.push_back(now);
        false
    }
}

/// Every IAM action the resource makes.
pub const IAM_ACTIONS: [&str; 8] =
    ["CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey", "GetAccessKeyLastUsed", "ListUserTags", "TagUser", "UntagUser"];

pub struct FaultProxy {
    port: u16,
    tls: bool,
    state: Arc<(Mutex<State>, std::sync::Condvar)>,
}

impl FaultProxy {
    pub fn start(upstream: &str) -> FaultProxy {
        Self::start_with(upstream, None)
    }

    /// The same proxy behind HTTPS (`endpoint` says `https://`), its certificate for
    /// 127.0.0.1 issued by a throwaway CA whose certificate (PEM) comes beside it.
    pub fn start_tls(upstream: &str) -> (FaultProxy, String) {
        let (ca_pem, server) = throwaway_ca_and_server_config();
        (Self::start_with(upstream, Some(server)), ca_pem)
    }

    fn start_with(upstream: &str, tls: Option<Arc<rustls::ServerConfig>>) -> FaultProxy {
        let upstream = upstream.trim_start_matches("http://").to_string();
        assert!(upstream.starts_with("127.0.0.1:"), "the proxy only forwards to loopback");
        let state = Arc::new((Mutex::new(State::default()), std::sync::Condvar::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let shared = state.clone();
        let acceptor = tls.clone().map(tokio_rustls::TlsAcceptor::from);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                port_tx.send(listener.local_addr().unwrap().port()).unwrap();
                loop {
                    let Ok((client, _)) = listener.accept().await else { return };
                    shared.0.lock().unwrap().connections += 1;
                    let (upstream, shared, acceptor) = (upstream.clone(), shared.clone(), acceptor.clone());
                    tokio::spawn(async move {
                        match acceptor {
                            // A client that refuses the certificate ends its handshake here.
                            Some(acceptor) => {
                                if let Ok(client) = acceptor.accept(client).await {
                                    serve(client, upstream, shared).await
                                }
                            }
                            None => serve(client, upstream, shared).await,
                        }
                    });
                }
            });
        });
        FaultProxy { port: port_rx.recv().unwrap(), tls: tls.is_some(), state }
    }

    pub fn endpoint(&self) -> String {
        format!("{}://127.0.0.1:{}", if self.tls { "https" } else { "http" }, self.port)
    }

    pub fn arm(&self, action: &str, count: usize, fault: Fault) {
        self.state.0.lock().unwrap().rules.push(Rule { action: action.into(), remaining: count, fault });
    }

    pub fn disarm(&self) {
        self.state.0.lock().unwrap().rules.clear();
    }

    /// Answers IAM's `Throttling` (HTTP 400) to every request above `per_second`
    /// in any one-second window, as IAM's per-account rate limit does.
    pub fn limit_rate(&self, per_second: usize) {
        self.state.0.lock().unwrap().rate_limit = Some(per_second);
    }

    /// Adds `delay` to every request of any service (IAM, STS, Organizations)
    /// that no armed rule faults; None takes it away.
    pub fn delay_every_request(&self, delay: Option<Duration>) {
        self.state.0.lock().unwrap().delay_every_request = delay;
    }

    /// How many requests of any service reached the proxy.
    pub fn requests(&self) -> usize {
        self.state.0.lock().unwrap().requests
    }

    /// How many requests the rate limit refused.
    pub fn throttled(&self) -> usize {
        self.state.0.lock().unwrap().throttled
    }

    /// How many connections the proxy accepted.
    pub fn connections(&self) -> usize {
        self.state.0.lock().unwrap().connections
    }

    /// How many requests for `action` reached the proxy (faulted or not).
    pub fn calls(&self, action: &str) -> usize {
        self.state.0.lock().unwrap().calls.get(action).copied().unwrap_or(0)
    }

    /// The IAM calls (of IAM_ACTIONS, in that order) that reached the proxy during
    /// `run`, with their counts; actions not called are left out.
    pub fn calls_during(&self, run: impl FnOnce()) -> Vec<(&'static str, usize)> {
        let before: Vec<usize> = IAM_ACTIONS.iter().map(|a| self.calls(a)).collect();
        run();
        IAM_ACTIONS.iter().zip(before).map(|(a, b)| (*a, self.calls(a) - b)).filter(|(_, n)| *n > 0).collect()
    }

    /// Blocks until `count` requests for `action` have arrived, or `timeout` passes.
    pub fn wait_for(&self, action: &str, count: usize, timeout: Duration) -> bool {
        let (lock, arrived) = &*self.state;
        let guard = lock.lock().unwrap();
        let (guard, _) = arrived.wait_timeout_while(guard, timeout, |s| s.calls.get(action).copied().unwrap_or(0) < count).unwrap();
        guard.calls.get(action).copied().unwrap_or(0) >= count
    }
}

async fn serve(mut client: impl AsyncRead + AsyncWrite + Unpin, upstream: String, state: Arc<(Mutex<State>, std::sync::Condvar)>) {
    while let Some(request) = read_message(&mut client).await {
        let (action, json) = request_action(&request);
        let fault = {
            let mut state_guard = state.0.lock().unwrap();
            *state_guard.calls.entry(action.clone()).or_default() += 1;
            state_guard.requests += 1;
            state.1.notify_all();
            if state_guard.over_rate_limit() {
                Some(Fault::Error { status: 400, code: "Throttling" })
            } else {
                let armed = state_guard.rules.iter_mut().find(|r| r.action == action && r.remaining > 0).map(|r| {
                    r.remaining -= 1;
                    r.fault.clone()
                });
                armed.or(state_guard.delay_every_request.map(Fault::Delay))
            }
        };
        let response = match fault {
            Some(Fault::Error { status, code }) => error_response(status, code, None, json),
            Some(Fault::ErrorRetryAfter { status, code, retry_after_ms }) => error_response(status, code, Some(retry_after_ms), json),
            Some(Fault::ReplaceSecret(canary)) => match forward(&upstream, &request.raw).await {
                Some(r) => replace_secret(&r, canary),
                None => return,
            },
            Some(Fault::Drop) => return,
            Some(Fault::Lost) => {
                let _ = forward(&upstream, &request.raw).await;
                return;
            }
            Some(Fault::Delay(delay)) => {
                tokio::time::sleep(delay).await;
                match forward(&upstream, &request.raw).await {
                    Some(r) => r,
                    None => return,
                }
            }
            None => match forward(&upstream, &request.raw).await {
                Some(r) => r,
                None => return,
            },
        };
        if client.write_all(&response).await.is_err() {
            return;
        }
    }
}

struct Message {
    raw: Vec<u8>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 message (headers and a Content-Length body).
async fn read_message(stream: &mut (impl AsyncRead + Unpin)) -> Option<Message> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(pos) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..header_end]).to_ascii_lowercase();
    let length: usize = head.lines().find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse().ok())).unwrap_or(0);
    while raw.len() < header_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&chunk[..n]);
    }
    let body = raw[header_end..header_end + length].to_vec();
    Some(Message { raw, body })
}

/// The request's action, and whether it speaks AWS's JSON protocol: the
/// `X-Amz-Target` header's operation (Organizations), else the form's `Action`
/// (IAM, STS).
fn request_action(request: &Message) -> (String, bool) {
    let head = String::from_utf8_lossy(&request.raw[..request.raw.len() - request.body.len()]).into_owned();
    let target = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("x-amz-target").then(|| value.trim().rsplit('.').next().unwrap_or_default().to_string())
    });
    match target {
        Some(operation) => (operation, true),
        None => {
            (String::from_utf8_lossy(&request.body).split('&').find_map(|pair| pair.strip_prefix("Action=").map(str::to_string)).unwrap_or_default(), false)
        }
    }
}

/// Sends the request to moto on a fresh connection and returns its response.
async fn forward(upstream: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(upstream).await.ok()?;
    stream.write_all(request).await.ok()?;
    read_message(&mut stream).await.map(|m| m.raw)
}

/// An error as the service speaks it: awsQuery's XML, or the JSON protocol's body.
fn error_response(status: u16, code: &str, retry_after_ms: Option<u64>, json: bool) -> Vec<u8> {
    let (content_type, body) = match json {
        true => ("application/x-amz-json-1.1", format!("{{\"__type\":\"{code}\",\"message\":\"injected {code}\"}}")),
        false => (
            "text/xml",
            format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>injected {code}</Message></Error><RequestId>injected</RequestId></ErrorResponse>"
            ),
        ),
    };
    let retry_after = retry_after_ms.map(|ms| format!("x-amz-retry-after: {ms}\r\n")).unwrap_or_default();
    format!("HTTP/1.1 {status} Injected\r\nContent-Type: {content_type}\r\n{retry_after}Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// The same HTTP response with its `<SecretAccessKey>` replaced by `canary`.
fn replace_secret(response: &[u8], canary: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(response);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return response.to_vec() };
    let (Some(start), Some(end)) = (body.find("<SecretAccessKey>"), body.find("</SecretAccessKey>")) else {
        return response.to_vec();
    };
    let body = format!("{}<SecretAccessKey>{canary}{}", &body[..start], &body[end..]);
    let head: Vec<String> = head
        .lines()
        .map(|l| if l.to_ascii_lowercase().starts_with("content-length:") { format!("Content-Length: {}", body.len()) } else { l.to_string() })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

/// A CA (its certificate as PEM) and a server configuration whose certificate, for
/// 127.0.0.1, that CA issued.
fn throwaway_ca_and_server_config() -> (String, Arc<rustls::ServerConfig>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "iamkey test endpoint CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_certificate = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&server_key, &ca).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![server_certificate.der().clone()], key)
        .unwrap();
    (ca.pem(), Arc::new(config))
}
