//! Protocol tests: start the built binary as go-plugin does (cookie, protocol
//! versions, a P-521 client certificate with cA=TRUE like Terraform's) and speak
//! tfplugin6 to it over mutual TLS on its unix socket.

use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

use iamkey::protocol::goplugin::client::{Empty, GrpcControllerClient, GrpcStdioClient};
use iamkey::protocol::testing as tf;
use support::plugin::*;
use tonic::transport::Channel;

mod support;

async fn schema_call(channel: Channel) -> Result<tf::get_provider_schema::Response, tonic::Status> {
    tf::provider_client::ProviderClient::new(channel)
        .max_decoding_message_size(64 << 20)
        .get_provider_schema(tf::get_provider_schema::Request {})
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn handshake_line_is_go_plugin_format_and_the_only_stdout() {
    let mut plugin = launch();
    let fields: Vec<&str> = plugin.handshake.trim_end().split('|').collect();
    assert_eq!(&fields[..3], ["1", "6", "unix"]);
    assert_eq!(fields[4], "grpc");
    assert!(fields[5].len() > 50 && !fields[5].contains('='), "RawStd base64 certificate: {}", fields[5]);
    assert!(std::path::Path::new(&plugin.socket).exists());
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let schema = schema_call(channel.clone()).await.unwrap();
    assert!(schema.resource_schemas.contains_key("iamkey_access_key"));
    let health = tonic_health::pb::health_client::HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest { service: "plugin".into() })
        .await
        .unwrap();
    assert_eq!(health.into_inner().status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    // Shut down, then nothing but the handshake line was ever written to stdout.
    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    let _ = plugin.child.wait();
    let mut rest = String::new();
    plugin.stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "stdout after the handshake line");
}

/// A client that speaks another protocol (tfplugin5, say) is told Unimplemented, as
/// a gRPC server answers, and the connection goes on serving the services it has.
#[tokio::test]
async fn a_service_the_plugin_does_not_serve_is_unimplemented() {
    let plugin = launch();
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/tfplugin5.Provider/GetSchema");
    let status = grpc.unary::<(), (), _>(tonic::Request::new(()), path, tonic_prost::ProstCodec::default()).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    grpc.ready().await.unwrap();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/tfplugin6.Provider/NoSuchMethod");
    let status = grpc.unary::<(), (), _>(tonic::Request::new(()), path, tonic_prost::ProstCodec::default()).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    assert!(schema_call(channel).await.unwrap().resource_schemas.contains_key("iamkey_access_key"));
}

#[test]
fn without_the_magic_cookie_it_explains_and_exits_1() {
    let output = Command::new(env!("CARGO_BIN_EXE_terraform-provider-iamkey")).env_remove(COOKIE.0).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing on stdout");
    assert!(String::from_utf8_lossy(&output.stderr).contains("This binary is a plugin"));
}

#[test]
fn without_protocol_6_it_names_the_required_versions() {
    let output = Command::new(env!("CARGO_BIN_EXE_terraform-provider-iamkey")).env(COOKIE.0, COOKIE.1).env("PLUGIN_PROTOCOL_VERSIONS", "4,5").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("protocol 6"));
}

#[tokio::test]
async fn connections_without_the_pinned_client_certificate_are_refused() {
    let plugin = launch();
    let stranger = terraform_like_identity();
    for (what, auth) in [
        ("no client certificate", ClientAuth::NoCertificate),
        ("another certificate", ClientAuth::Certificate(&stranger)),
        ("plaintext", ClientAuth::Plaintext),
    ] {
        let refused = match connect(&plugin, auth).await {
            Err(_) => true,
            Ok(channel) => schema_call(channel).await.is_err(),
        };
        assert!(refused, "{what} was served");
    }
    // The right certificate still works afterwards.
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    assert!(schema_call(channel).await.is_ok());
}

#[tokio::test]
async fn shutdown_exits_within_two_seconds_and_removes_the_socket() {
    let mut plugin = launch();
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    // Keep go-plugin's stdio stream open, as Terraform does.
    let _stdio = GrpcStdioClient::new(channel.clone()).stream_stdio(()).await.unwrap();
    let started = Instant::now();
    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    let status = plugin.exits_within(Duration::from_secs(2));
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(!std::path::Path::new(&plugin.socket).exists(), "socket removed");
}

#[tokio::test]
async fn malformed_values_are_answered_with_diagnostics_and_the_server_keeps_serving() {
    let plugin = launch();
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let mut client = tf::provider_client::ProviderClient::new(channel.clone());
    let bad_configs: [(&str, Vec<u8>, Vec<u8>); 4] = [
        ("reserved marker", vec![0xc1], vec![]),
        ("truncated map", vec![0x8a, 0xa4, b'u', b's'], vec![]),
        ("huge claimed array", vec![0xdd, 0xff, 0xff, 0xff, 0xff], vec![]),
        ("broken json", vec![], b"{\"user\": ".to_vec()),
    ];
    for (what, msgpack, json) in bad_configs {
        let response = client
            .validate_resource_config(tf::validate_resource_config::Request {
                type_name: "iamkey_access_key".into(),
                config: Some(tf::DynamicValue { msgpack, json }),
                client_capabilities: None,
            })
            .await
            .unwrap_or_else(|s| panic!("{what}: gRPC error {s}"))
            .into_inner();
        assert_eq!(response.diagnostics.len(), 1, "{what}");
        assert_eq!(response.diagnostics[0].severity, tf::diagnostic::Severity::Error as i32);
        assert!(response.diagnostics[0].summary.contains("Invalid value from Terraform"), "{what}");
    }
    let upgraded = client
        .upgrade_resource_state(tf::upgrade_resource_state::Request {
            type_name: "iamkey_access_key".into(),
            version: 0,
            raw_state: Some(tf::RawState { json: b"{\"id\": [".to_vec(), ..Default::default() }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(upgraded.upgraded_state.is_none());
    assert!(upgraded.diagnostics[0].summary.contains("Invalid stored state"));
    // StopProvider cancels in-flight work only: the server keeps answering.
    let stop = client.stop_provider(tf::stop_provider::Request {}).await.unwrap().into_inner();
    assert_eq!(stop.error, "");
    assert!(schema_call(channel).await.is_ok());
}

#[tokio::test]
async fn unknown_types_get_diagnostics_not_unimplemented() {
    let plugin = launch();
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let mut client = tf::provider_client::ProviderClient::new(channel);
    let read = client.read_data_source(tf::read_data_source::Request { type_name: "iamkey_nope".into(), ..Default::default() }).await.unwrap().into_inner();
    assert!(read.diagnostics[0].detail.contains("iamkey_nope"));
    let opened = client
        .open_ephemeral_resource(tf::open_ephemeral_resource::Request { type_name: "iamkey_nope".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(opened.diagnostics.len(), 1);
    let identities = client.get_resource_identity_schemas(tf::get_resource_identity_schemas::Request {}).await.unwrap().into_inner();
    assert!(identities.diagnostics.is_empty());
    let key_identity = &identities.identity_schemas["iamkey_access_key"];
    let required: Vec<&str> = key_identity.identity_attributes.iter().filter(|a| a.required_for_import).map(|a| a.name.as_str()).collect();
    assert_eq!(required, ["access_key_id"]);
    assert_eq!(key_identity.identity_attributes.len(), 3);
    // A stored identity (JSON) comes back upgraded (msgpack), attribute for attribute.
    let upgraded = client
        .upgrade_resource_identity(tf::upgrade_resource_identity::Request {
            type_name: "iamkey_access_key".into(),
            version: 0,
            raw_identity: Some(tf::RawState { json: br#"{"access_key_id":"AKIAIOSFODNN7EXAMPLE","user":"bob"}"#.to_vec(), ..Default::default() }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(upgraded.diagnostics.is_empty(), "{:?}", upgraded.diagnostics);
    let msgpack = upgraded.upgraded_identity.unwrap().identity_data.unwrap().msgpack;
    assert!(msgpack.windows(20).any(|w| w == b"AKIAIOSFODNN7EXAMPLE") && msgpack.windows(3).any(|w| w == b"bob"));
}

#[tokio::test]
async fn a_panicking_handler_is_answered_and_the_server_keeps_serving() {
    let plugin = launch_with(&[("IAMKEY_TEST_PANIC_AT", "ValidateResourceConfig")]);
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let mut client = tf::provider_client::ProviderClient::new(channel.clone());
    for _ in 0..2 {
        let response = client
            .validate_resource_config(tf::validate_resource_config::Request {
                type_name: "iamkey_access_key".into(),
                config: Some(tf::DynamicValue { msgpack: vec![0x80], json: vec![] }),
                client_capabilities: None,
            })
            .await
            .expect("answered, not a dropped stream")
            .into_inner();
        assert_eq!(response.diagnostics[0].summary, "Provider internal error");
        assert!(!response.diagnostics[0].detail.contains("injected"), "the panic payload is not shown");
    }
    assert!(schema_call(channel).await.is_ok());
}

/// A stand-in IAM endpoint for the protocol tests: it either answers every call
/// (ListAccessKeys with no keys, anything else with a created key), or accepts and
/// never answers. Each request is announced.
struct StubIam {
    url: String,
    requests: tokio::sync::mpsc::UnboundedReceiver<()>,
}

impl StubIam {
    async fn start(answer: bool) -> StubIam {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, requests) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let Ok(mut n) = socket.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    // The form names the action: read up to the end of the body.
                    while answer && !String::from_utf8_lossy(&buf[..n]).contains("Action=") && n < buf.len() {
                        match socket.read(&mut buf[n..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(more) => n += more,
                        }
                    }
                    let _ = tx.send(());
                    if !answer {
                        let _ = socket.read(&mut buf).await; // until the client gives up
                        return;
                    }
                    let listing = "<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListAccessKeysResult>\
                        <AccessKeyMetadata/><IsTruncated>false</IsTruncated></ListAccessKeysResult></ListAccessKeysResponse>";
                    let created = "<CreateAccessKeyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateAccessKeyResult><AccessKey>\
                        <UserName>bob</UserName><AccessKeyId>AKIASTUB000000000001</AccessKeyId><Status>Active</Status>\
                        <SecretAccessKey>stubSecretstubSecretstubSecretstubSecret</SecretAccessKey><CreateDate>2026-01-01T00:00:00Z</CreateDate>\
                        </AccessKey></CreateAccessKeyResult></CreateAccessKeyResponse>";
                    let body = if String::from_utf8_lossy(&buf[..n]).contains("Action=ListAccessKeys") { listing } else { created };
                    // One answer per connection: say so, or the client may reuse a closed one.
                    let response = format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        StubIam { url, requests }
    }
}

fn msgpack(value: &iamkey::value::Value, ty: &iamkey::value::Type) -> tf::DynamicValue {
    tf::DynamicValue { msgpack: iamkey::protocol::codec::encode_msgpack(value, ty).unwrap(), json: vec![] }
}

/// ApplyResourceChange creating an `iamkey_access_key` with `planned` from `config`.
async fn apply_create(
    client: &mut tf::provider_client::ProviderClient<Channel>,
    planned: &iamkey::value::Value,
    config: &iamkey::value::Value,
) -> tf::apply_resource_change::Response {
    let ty = key_type();
    client
        .apply_resource_change(tf::apply_resource_change::Request {
            type_name: "iamkey_access_key".into(),
            prior_state: Some(msgpack(&iamkey::value::Value::Null, &ty)),
            planned_state: Some(msgpack(planned, &ty)),
            config: Some(msgpack(config, &ty)),
            ..Default::default()
        })
        .await
        .expect("answered, not a dropped stream")
        .into_inner()
}

/// A FIFO at `path`.
fn make_fifo(path: &std::path::Path) {
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
}

/// A ConfigureProvider request: static dummy credentials, no credential check,
/// and `arguments`.
fn configure_request(arguments: Vec<(&'static str, iamkey::value::Value)>) -> tf::configure_provider::Request {
    use iamkey::framework::Provider;
    use iamkey::value::Value;
    let ty = iamkey::provider::IamKeyProvider::new().schema().value_type().clone();
    let mut config = Value::object([
        ("region", Value::string("us-east-1")),
        ("access_key", Value::string("AKIDPROTOCOLTEST")),
        ("secret_key", Value::string("protocol-test-secret")),
        ("skip_credentials_validation", Value::Bool(true)),
    ]);
    for (name, value) in arguments {
        config.set(name, value);
    }
    tf::configure_provider::Request { config: Some(msgpack(&config, &ty)), ..Default::default() }
}

/// Configures the provider against `endpoint`, without the credential check.
async fn configure(client: &mut tf::provider_client::ProviderClient<Channel>, endpoint: &str) {
    use iamkey::value::{Number, Value};
    let request = configure_request(vec![
        ("max_retries", Value::Number(Number::Int(0))),
        ("endpoints", Value::object([("iam", Value::string(endpoint)), ("sts", Value::string(endpoint))])),
    ]);
    let response = client.configure_provider(request).await.unwrap().into_inner();
    assert!(response.diagnostics.is_empty(), "{:?}", response.diagnostics.iter().map(|d| &d.detail).collect::<Vec<_>>());
}

fn key_type() -> iamkey::value::Type {
    use iamkey::framework::Provider;
    iamkey::provider::IamKeyProvider::new().resource("iamkey_access_key").unwrap().schema().value_type().clone()
}

fn existing_key_state() -> iamkey::value::Value {
    use iamkey::value::Value;
    Value::object([("id", Value::string("AKIASTUB000000000001")), ("user", Value::string("bob")), ("status", Value::string("Active"))])
}

#[tokio::test]
async fn a_panic_after_create_still_answers_with_the_created_key() {
    use iamkey::value::Value;
    let plugin = launch_with(&[("IAMKEY_TEST_PANIC_AT", "after-create")]);
    let iam = StubIam::start(true).await;
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let mut client = tf::provider_client::ProviderClient::new(channel.clone());
    configure(&mut client, &iam.url).await;
    let ty = key_type();
    let config = Value::object([("user", Value::string("bob")), ("status", Value::string("Active"))]);
    let mut planned = config.clone();
    planned.set("id", Value::Unknown);
    planned.set("secret", Value::Unknown);
    let response = apply_create(&mut client, &planned, &config).await;
    assert_eq!(response.diagnostics[0].summary, "Provider internal error");
    let state = iamkey::protocol::codec::decode_msgpack(&response.new_state.unwrap().msgpack, &ty).unwrap();
    assert_eq!(state.get("id"), &Value::string("AKIASTUB000000000001"), "the created key is in the answer");
    assert!(state.is_wholly_known());
    assert!(schema_call(channel).await.is_ok(), "the server keeps serving");
}

/// Starts a ReadResource of an existing key and returns once it is waiting on IAM.
async fn read_in_flight(
    client: &tf::provider_client::ProviderClient<Channel>,
    iam: &mut StubIam,
) -> tokio::task::JoinHandle<Result<tonic::Response<tf::read_resource::Response>, tonic::Status>> {
    let mut reader = client.clone();
    let ty = key_type();
    let read = tokio::spawn(async move {
        reader
            .read_resource(tf::read_resource::Request {
                type_name: "iamkey_access_key".into(),
                current_state: Some(msgpack(&existing_key_state(), &ty)),
                ..Default::default()
            })
            .await
    });
    iam.requests.recv().await.expect("the read reached IAM");
    read
}

#[tokio::test]
async fn stop_provider_cancels_a_read_in_flight_and_the_server_keeps_serving() {
    let plugin = launch();
    let mut iam = StubIam::start(false).await;
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let mut client = tf::provider_client::ProviderClient::new(channel.clone());
    configure(&mut client, &iam.url).await;
    let read = read_in_flight(&client, &mut iam).await;
    let started = Instant::now();
    client.stop_provider(tf::stop_provider::Request {}).await.unwrap();
    let response = read.await.unwrap().expect("answered").into_inner();
    assert!(started.elapsed() < Duration::from_secs(2), "cancelled promptly");
    assert!(response.diagnostics[0].detail.contains("cancelled"), "{:?}", response.diagnostics[0]);
    assert!(response.new_state.is_some(), "the prior state is kept");
    assert!(schema_call(channel).await.is_ok());
}

#[tokio::test]
async fn shutdown_with_a_call_in_flight_exits_within_two_seconds() {
    let mut plugin = launch();
    let mut iam = StubIam::start(false).await;
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let mut client = tf::provider_client::ProviderClient::new(channel.clone());
    configure(&mut client, &iam.url).await;
    let _read = read_in_flight(&client, &mut iam).await;
    let started = Instant::now();
    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    plugin.exits_within(Duration::from_secs(2));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn tls_below_1_2_is_refused() {
    use std::io::Write;
    let plugin = launch();
    // A TLS 1.1 ClientHello (record and hello version 3.2) offering one TLS 1.1 suite.
    let mut hello = vec![0x03, 0x02];
    hello.extend_from_slice(&[0x42; 32]); // random
    hello.push(0); // no session id
    hello.extend_from_slice(&[0x00, 0x02, 0x00, 0x2f]); // TLS_RSA_WITH_AES_128_CBC_SHA
    hello.extend_from_slice(&[0x01, 0x00]); // null compression
    let mut handshake = vec![0x01, 0x00, 0x00, hello.len() as u8];
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x02, 0x00, handshake.len() as u8];
    record.extend_from_slice(&handshake);
    let mut socket = std::os::unix::net::UnixStream::connect(&plugin.socket).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    socket.write_all(&record).unwrap();
    let mut reply = Vec::new();
    let _ = socket.read_to_end(&mut reply);
    assert!(!reply.is_empty(), "the server answers with an alert");
    assert_eq!(reply[0], 0x15, "an alert record, not a ServerHello: {reply:02x?}");
}

/// The folder that holds a plugin's socket.
fn socket_folder(plugin: &Plugin) -> std::path::PathBuf {
    std::path::Path::new(&plugin.socket).parent().unwrap().to_path_buf()
}

#[test]
fn the_socket_folder_is_0700_and_the_socket_0600_even_at_umask_000() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let identity = terraform_like_identity();
    let mut command = plugin_command(std::path::Path::new(env!("CARGO_BIN_EXE_terraform-provider-iamkey")), &[], &identity);
    command.stdout(std::process::Stdio::piped());
    // SAFETY: umask is async-signal-safe; it runs in the child between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let plugin = Plugin::handshake(child, stdout, identity);
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&socket_folder(&plugin)), 0o700, "socket folder");
    assert_eq!(mode(std::path::Path::new(&plugin.socket)), 0o600, "socket");
}

#[test]
fn sigterm_exits_and_removes_the_socket_folder() {
    let mut plugin = launch();
    let folder = socket_folder(&plugin);
    assert!(folder.exists());
    // SAFETY: sends a signal to our own child.
    unsafe {
        libc::kill(plugin.child.id() as i32, libc::SIGTERM);
    }
    let status = plugin.exits_within(Duration::from_secs(2));
    assert!(status.success(), "{status:?}");
    assert!(!folder.exists(), "socket folder {folder:?} left behind");
}

/// Starts the plugin with its stdout on a pipe that is already full, so that its
/// handshake write blocks; returns it once the kernel shows it blocked there.
fn launch_blocked_on_handshake(identity: &ClientIdentity) -> (std::process::Child, std::io::PipeReader, usize) {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let (reader, mut writer) = std::io::pipe().unwrap();
    let fd = writer.as_raw_fd();
    let set_nonblocking = |on: bool| {
        // SAFETY: fcntl on a descriptor this function owns.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, if on { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK });
        }
    };
    set_nonblocking(true);
    let mut filled = 0;
    while let Ok(n) = writer.write(&[b'x'; 4096]) {
        filled += n;
    }
    set_nonblocking(false);
    let mut command = plugin_command(std::path::Path::new(env!("CARGO_BIN_EXE_terraform-provider-iamkey")), &[], identity);
    command.stdout(writer);
    let child = command.spawn().unwrap();
    drop(command);
    let wchan = format!("/proc/{}/wchan", child.id());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&wchan).unwrap_or_default().contains("pipe_write") {
        assert!(Instant::now() < deadline, "the plugin never blocked writing its handshake");
        std::thread::yield_now();
    }
    (child, reader, filled)
}

#[test]
fn sigint_before_the_handshake_is_read_is_survived_20_of_20_times() {
    use std::io::{BufRead, BufReader};
    let mut survived = 0;
    for _ in 0..20 {
        let identity = terraform_like_identity();
        let (mut child, reader, filled) = launch_blocked_on_handshake(&identity);
        // SAFETY: sends a signal to our own child.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        let mut stdout = BufReader::new(reader);
        std::io::copy(&mut (&mut stdout).take(filled as u64), &mut std::io::sink()).unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let alive = child.try_wait().unwrap().is_none();
        if line.starts_with("1|6|unix|") && alive {
            survived += 1;
        }
        // Caught, not ignored: an ignored SIGINT would be inherited by programs the
        // provider starts (a credential_process).
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        let mask = |name: &str| u64::from_str_radix(status.lines().find_map(|l| l.strip_prefix(name)).unwrap().trim(), 16).unwrap();
        let sigint = 1 << (libc::SIGINT - 1);
        assert_eq!((mask("SigIgn:") & sigint, mask("SigCgt:") & sigint), (0, sigint), "SIGINT is caught by a handler");
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(survived, 20, "early SIGINTs survived");
}

#[test]
fn a_blank_or_unusable_client_certificate_stops_the_launch() {
    let garbage = "-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAA\n-----END CERTIFICATE-----\n";
    for (what, value) in [("blank", ""), ("spaces", "  \n"), ("no certificate", "hello"), ("not X.509", garbage)] {
        let output = Command::new(env!("CARGO_BIN_EXE_terraform-provider-iamkey"))
            .env(COOKIE.0, COOKIE.1)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_CLIENT_CERT", value)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{what}");
        assert!(output.stdout.is_empty(), "{what}: no handshake line, so no plaintext server");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("PLUGIN_CLIENT_CERT"), "{what}: {stderr}");
    }
}

#[tokio::test]
async fn hostile_inputs_at_plan_and_apply_get_diagnostics_and_make_no_iam_call() {
    use iamkey::value::Value;
    let plugin = launch();
    let mut iam = StubIam::start(true).await;
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let mut client = tf::provider_client::ProviderClient::new(channel);
    configure(&mut client, &iam.url).await;
    let ty = key_type();
    let key = |attribute: &'static str, value: Value| {
        let mut config = Value::object([("user", Value::string("bob")), ("status", Value::string("Active"))]);
        config.set(attribute, value);
        config
    };
    let cases = [
        ("a user name with a space", key("user", Value::string("bad name!")), "user"),
        ("a user name of 65 characters", key("user", Value::string("a".repeat(65))), "user"),
        ("a user name of 1 MiB", key("user", Value::string("a".repeat(1 << 20))), "user"),
        ("an empty user name", key("user", Value::string("")), "user"),
        ("a status IAM does not have", key("status", Value::string("Bogus")), "status"),
        ("a description with a control character", key("description", Value::string("a\u{7}b")), "description"),
    ];
    for (what, config, attribute) in &cases {
        let plan = client
            .plan_resource_change(tf::plan_resource_change::Request {
                type_name: "iamkey_access_key".into(),
                prior_state: Some(msgpack(&Value::Null, &ty)),
                proposed_new_state: Some(msgpack(config, &ty)),
                config: Some(msgpack(config, &ty)),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(plan.planned_state.is_none(), "{what}: planned anyway");
        let shown = format!("{:?}", plan.diagnostics);
        assert!(shown.contains(&format!("AttributeName(\"{attribute}\")")), "{what}: no diagnostic on {attribute}: {shown:.300}");
        assert!(shown.len() < 2_000, "{what}: a {} byte diagnostic", shown.len());

        let mut planned = config.clone();
        planned.set("id", Value::Unknown);
        let apply = apply_create(&mut client, &planned, config).await;
        let shown = format!("{:?}", apply.diagnostics);
        assert!(shown.contains(&format!("AttributeName(\"{attribute}\")")), "{what}: apply went ahead: {shown:.300}");
    }
    // A value the plan filled in (here a computed user the configuration leaves
    // out) is checked too: it is what the create would send.
    let config = Value::object([("status", Value::string("Active"))]);
    let mut planned = config.clone();
    planned.set("user", Value::string("bad name!"));
    let apply = apply_create(&mut client, &planned, &config).await;
    let shown = format!("{:?}", apply.diagnostics);
    assert!(shown.contains("AttributeName(\"user\")"), "a planned-only value went unchecked: {shown:.300}");
    // An unknown user at apply is refused, never taken to mean the caller.
    let config = Value::object([("user", Value::Unknown), ("status", Value::string("Active"))]);
    let apply = apply_create(&mut client, &config, &config).await;
    assert_eq!(apply.diagnostics[0].summary, "Unknown value at apply");
    assert!(iam.requests.try_recv().is_err(), "no IAM call was made for any of them");
}

#[tokio::test]
async fn a_fifo_as_ca_bundle_gets_a_diagnostic_within_the_timeout_while_other_rpcs_answer() {
    use iamkey::value::{Number, Value};
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ca.pem");
    make_fifo(&fifo);
    let plugin = launch();
    let channel = connect(&plugin, ClientAuth::Certificate(&plugin.identity)).await.unwrap();
    let mut client = tf::provider_client::ProviderClient::new(channel.clone());
    let request = configure_request(vec![("operation_timeout", Value::Number(Number::Int(2))), ("custom_ca_bundle", Value::string(fifo.to_str().unwrap()))]);
    let started = Instant::now();
    let (configured, schema) = tokio::join!(client.configure_provider(request), schema_call(channel),);
    assert!(schema.is_ok(), "GetProviderSchema answers meanwhile");
    let diagnostics = configured.unwrap().into_inner().diagnostics;
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    let shown = format!("{diagnostics:?}");
    assert!(shown.contains("AttributeName(\"custom_ca_bundle\")") && shown.contains("FIFO"), "{shown}");
}
