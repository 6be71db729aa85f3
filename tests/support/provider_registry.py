"""A provider registry on loopback, over HTTPS, serving one release as a registry would.

Terraform checks a provider's signature only when it installs from a registry (a
filesystem mirror is always "unauthenticated"), so the signed-release test serves the
files scripts/package.sh wrote through the provider registry protocol: service
discovery, the versions list and each platform's download document (with the signing
key), then the files themselves. It makes a throwaway CA and a certificate for
localhost and 127.0.0.1, writes the CA to STATE/ca.pem (for SSL_CERT_FILE), and prints
the port once listening. Files are read on every request, so a test can tamper with
them while the server runs.

Usage: provider_registry.py --dist DIST --state STATE --key-id KEYID --public-key FILE
"""

import argparse
import ctypes
import datetime
import http.server
import ipaddress
import json
import pathlib
import re
import signal
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NAMESPACE, TYPE = "iamkey", "iamkey"
ZIP = re.compile(r"terraform-provider-iamkey_(?P<version>[^_]+)_(?P<os>[a-z0-9]+)_(?P<arch>[a-z0-9]+)\.zip$")


def certificate(subject, key, issuer, issuer_key, is_ca, names=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def write_certificates(state):
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("iamkey test registry CA", ca_key, "iamkey test registry CA", ca_key, True)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    leaf = certificate("localhost", leaf_key, "iamkey test registry CA", ca_key, False, names)
    pem = serialization.Encoding.PEM
    (state / "ca.pem").write_bytes(ca.public_bytes(pem))
    (state / "leaf.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (state / "leaf.key").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def handler(dist, key_id, public_key):
    class Registry(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, body, content_type="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def json(self, document):
            self.reply(200, json.dumps(document).encode())

        def releases(self):
            return [(m, p) for p in sorted(dist.iterdir()) if (m := ZIP.match(p.name))]

        def do_GET(self):
            base = f"https://{self.headers['Host']}"
            prefix = f"/v1/providers/{NAMESPACE}/{TYPE}/"
            if self.path == "/.well-known/terraform.json":
                return self.json({"providers.v1": "/v1/providers/"})
            if self.path == prefix + "versions":
                versions = {}
                for m, _ in self.releases():
                    versions.setdefault(m["version"], []).append({"os": m["os"], "arch": m["arch"]})
                listed = [{"version": v, "protocols": ["6.0"], "platforms": p} for v, p in versions.items()]
                return self.json({"versions": listed})
            for m, path in self.releases():
                if self.path == f"{prefix}{m['version']}/download/{m['os']}/{m['arch']}":
                    sums = f"terraform-provider-iamkey_{m['version']}_SHA256SUMS"
                    line = next(l for l in (dist / sums).read_text().splitlines() if l.endswith(path.name))
                    return self.json({
                        "protocols": ["6.0"], "os": m["os"], "arch": m["arch"], "filename": path.name,
                        "download_url": f"{base}/files/{path.name}",
                        "shasums_url": f"{base}/files/{sums}",
                        "shasums_signature_url": f"{base}/files/{sums}.sig",
                        "shasum": line.split()[0],
                        "signing_keys": {"gpg_public_keys": [{
                            "key_id": key_id, "ascii_armor": public_key,
                            "trust_signature": "", "source": "", "source_url": None,
                        }]},
                    })
            name = self.path.removeprefix("/files/")
            if name != self.path and "/" not in name and (dist / name).is_file():
                return self.reply(200, (dist / name).read_bytes(), "application/octet-stream")
            self.reply(404, b'{"errors":["Not Found"]}')

    return Registry


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--dist", "--state", "--key-id", "--public-key"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    # Ends with the test that started it.
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    state = pathlib.Path(args.state)
    write_certificates(state)
    public_key = pathlib.Path(args.public_key).read_text()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(pathlib.Path(args.dist), args.key_id, public_key))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(state / "leaf.pem", state / "leaf.key")
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
