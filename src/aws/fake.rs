//! A scripted IAM endpoint on 127.0.0.1 for unit tests: it answers each request
//! with what the test's handler decides (an awsQuery XML body, a dropped
//! connection, or silence) and records every action it saw. Unlike interceptor
//! mocks, it produces real transport failures, which the create path must survive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub enum Reply {
    /// An HTTP response with this status and body.
    Xml(u16, String),
    /// Read the request, then close the connection without answering.
    Drop,
    /// Never answer (the connection stays open until the client gives up).
    Hang,
}

type Handler = dyn Fn(&str, &HashMap<String, String>, usize) -> Reply + Send + Sync;

pub struct FakeIam {
    pub endpoint: String,
    actions: Arc<Mutex<Vec<String>>>,
}

impl FakeIam {
    /// Starts a server whose `handler` gets the action, the form fields, and how
    /// many times this action was called before.
    pub async fn start(handler: impl Fn(&str, &HashMap<String, String>, usize) -> Reply + Send + Sync + 'static) -> FakeIam {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let actions = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let seen = actions.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let (handler, seen) = (handler.clone(), seen.clone());
                tokio::spawn(async move {
                    while let Some(form) = read_request(&mut socket).await {
                        let action = form.get("Action").cloned().unwrap_or_default();
                        let before = {
                            let mut seen = seen.lock().unwrap();
                            let n = seen.iter().filter(|a| **a == action).count();
                            seen.push(action.clone());
                            n
                        };
                        match handler(&action, &form, before) {
                            Reply::Xml(status, body) => {
                                // One write: a head and a body written apart wait out the
                                // client's delayed ACK (Nagle), 40 ms a response.
                                let response = format!("HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                                if socket.write_all(response.as_bytes()).await.is_err() {
                                    return;
                                }
                            }
                            Reply::Drop => return,
                            Reply::Hang => {
                                let mut sink = [0u8; 1];
                                let _ = socket.read(&mut sink).await;
                                return;
                            }
                        }
                    }
                });
            }
        });
        FakeIam { endpoint, actions }
    }

    pub fn calls(&self, action: &str) -> usize {
        self.actions.lock().unwrap().iter().filter(|a| *a == action).count()
    }

    /// The clients a resource gets from a configured provider, with IAM on this
    /// endpoint (5 s operation timeout, 3 attempts), in us-east-1, without an STS
    /// probe, secret stores or a known account, signed by the IAM user bob.
    pub fn clients(&self) -> crate::aws::AwsClients {
        self.clients_of(crate::aws::caller::Caller::User("bob".into()))
    }

    /// As `clients`, with requests signed by `caller`.
    pub fn clients_of(&self, caller: crate::aws::caller::Caller) -> crate::aws::AwsClients {
        crate::aws::AwsClients {
            iam: crate::aws::iam::Iam::new(self.client(std::time::Duration::from_secs(5)), 3),
            region: "us-east-1".into(),
            partition: "aws".into(),
            account_id: None,
            caller: crate::aws::caller::CallerIdentity::known(caller),
            probe: None,
            stores: None,
            organization: None,
        }
    }

    /// An IAM client for this endpoint with fast retries (3 attempts, 1 ms backoff).
    pub fn client(&self, operation_timeout: std::time::Duration) -> aws_sdk_iam::Client {
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_iam::config::Credentials::new("AKIDTEST", "test-secret", None, None, "test"))
            .retry_config(aws_smithy_types::retry::RetryConfig::standard().with_max_attempts(3).with_initial_backoff(std::time::Duration::from_millis(1)))
            .timeout_config(aws_smithy_types::timeout::TimeoutConfig::builder().operation_timeout(operation_timeout).build())
            .build();
        aws_sdk_iam::Client::from_conf(config)
    }
}

/// Reads one HTTP/1.1 request and returns its form fields; None at EOF.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<HashMap<String, String>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let length: usize = head.lines().find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))).unwrap_or(0);
    while buf.len() < header_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[header_end..header_end + length]).into_owned();
    let mut form: HashMap<String, String> = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2F", "/").replace("%40", "@").replace("%3A", ":")))
        .collect();
    if let Some(key_id) = signing_key_id(&String::from_utf8_lossy(&buf[..header_end])) {
        form.insert(SIGNED_BY.into(), key_id);
    }
    Some(form)
}

/// The form field under which the handler finds the access key ID that signed
/// the request (from its SigV4 Authorization header); no AWS form has it.
pub const SIGNED_BY: &str = "X-Signed-By";

fn signing_key_id(head: &str) -> Option<String> {
    let authorization = head.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization:"))?;
    let credential = authorization.split("Credential=").nth(1)?;
    Some(credential.split('/').next()?.to_string())
}

const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

pub fn error(status: u16, code: &str) -> Reply {
    Reply::Xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{code} from the fake</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        ),
    )
}

pub fn created(user: &str, id: &str, secret: &str, date: &str) -> Reply {
    Reply::Xml(
        200,
        format!(
            "<CreateAccessKeyResponse xmlns=\"{NS}\"><CreateAccessKeyResult><AccessKey><UserName>{user}</UserName>\
             <AccessKeyId>{id}</AccessKeyId><Status>Active</Status><SecretAccessKey>{secret}</SecretAccessKey>\
             <CreateDate>{date}</CreateDate></AccessKey></CreateAccessKeyResult><ResponseMetadata><RequestId>r</RequestId>\
             </ResponseMetadata></CreateAccessKeyResponse>"
        ),
    )
}

/// A ListAccessKeys page: `(id, status, date)` per key, and the next marker if any.
pub fn listed(user: &str, keys: &[(&str, &str, &str)], next_marker: Option<&str>) -> Reply {
    let members: String = keys
        .iter()
        .map(|(id, status, date)| {
            format!("<member><UserName>{user}</UserName><AccessKeyId>{id}</AccessKeyId><Status>{status}</Status><CreateDate>{date}</CreateDate></member>")
        })
        .collect();
    let (truncated, marker) = match next_marker {
        Some(m) => ("true", format!("<Marker>{m}</Marker>")),
        None => ("false", String::new()),
    };
    Reply::Xml(
        200,
        format!(
            "<ListAccessKeysResponse xmlns=\"{NS}\"><ListAccessKeysResult><UserName>{user}</UserName><AccessKeyMetadata>{members}\
             </AccessKeyMetadata><IsTruncated>{truncated}</IsTruncated>{marker}</ListAccessKeysResult><ResponseMetadata>\
             <RequestId>r</RequestId></ResponseMetadata></ListAccessKeysResponse>"
        ),
    )
}

/// A ListUsers answer (one page).
pub fn users(names: &[&str]) -> Reply {
    let members: String = names
        .iter()
        .map(|n| {
            format!(
                "<member><UserName>{n}</UserName><Path>/</Path><UserId>AIDA{n}</UserId><Arn>arn:aws:iam::123456789012:user/{n}</Arn>\
                 <CreateDate>2020-01-01T00:00:00Z</CreateDate></member>"
            )
        })
        .collect();
    Reply::Xml(
        200,
        format!(
            "<ListUsersResponse xmlns=\"{NS}\"><ListUsersResult><Users>{members}</Users><IsTruncated>false</IsTruncated>\
             </ListUsersResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>"
        ),
    )
}

/// A ListUserTags answer (one page): `(key, value)` per tag.
pub fn tags(tags: &[(&str, &str)]) -> Reply {
    let members: String = tags.iter().map(|(k, v)| format!("<member><Key>{k}</Key><Value>{v}</Value></member>")).collect();
    Reply::Xml(
        200,
        format!(
            "<ListUserTagsResponse xmlns=\"{NS}\"><ListUserTagsResult><Tags>{members}</Tags><IsTruncated>false</IsTruncated>\
             </ListUserTagsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUserTagsResponse>"
        ),
    )
}

/// Now, as IAM writes dates.
pub fn now() -> String {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now()).fmt(aws_smithy_types::date_time::Format::DateTime).unwrap()
}

const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An AssumeRole or AssumeRoleWithWebIdentity answer: a session `key_id` for
/// `role_arn` that expires at `expiration` (ISO 8601).
pub fn assumed(action: &str, role_arn: &str, key_id: &str, expiration: &str) -> Reply {
    Reply::Xml(
        200,
        format!(
            "<{action}Response xmlns=\"{STS_NS}\"><{action}Result><Credentials><AccessKeyId>{key_id}</AccessKeyId>\
             <SecretAccessKey>session-secret</SecretAccessKey><SessionToken>session-token</SessionToken>\
             <Expiration>{expiration}</Expiration></Credentials><AssumedRoleUser><Arn>{role_arn}/session</Arn>\
             <AssumedRoleId>AROA:session</AssumedRoleId></AssumedRoleUser></{action}Result><ResponseMetadata><RequestId>r</RequestId>\
             </ResponseMetadata></{action}Response>"
        ),
    )
}

/// A GetCallerIdentity answer.
pub fn caller(account: &str, arn: &str) -> Reply {
    Reply::Xml(
        200,
        format!(
            "<GetCallerIdentityResponse xmlns=\"{STS_NS}\"><GetCallerIdentityResult><Arn>{arn}</Arn><UserId>AIDA</UserId>\
             <Account>{account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
             </GetCallerIdentityResponse>"
        ),
    )
}

pub fn empty_ok(action: &str) -> Reply {
    Reply::Xml(200, format!("<{action}Response xmlns=\"{NS}\"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"))
}

/// A GetAccessKeyLastUsed answer for a key that was never used.
pub fn never_used(user: &str) -> Reply {
    Reply::Xml(
        200,
        format!(
            "<GetAccessKeyLastUsedResponse xmlns=\"{NS}\"><GetAccessKeyLastUsedResult><UserName>{user}</UserName><AccessKeyLastUsed>\
             <ServiceName>N/A</ServiceName><Region>N/A</Region></AccessKeyLastUsed></GetAccessKeyLastUsedResult>\
             <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetAccessKeyLastUsedResponse>"
        ),
    )
}
