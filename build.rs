//! Generates the tfplugin6 and go-plugin gRPC code from `proto/` at build time.
//! `protox` compiles the .proto files in pure Rust, so a build needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/tfplugin6.proto", "proto/grpc_broker.proto", "proto/grpc_controller.proto", "proto/grpc_stdio.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    // Clients only for the tests that play Terraform's part (feature test-hooks).
    let clients = std::env::var_os("CARGO_FEATURE_TEST_HOOKS").is_some();
    tonic_prost_build::configure().build_client(clients).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
