#!/usr/bin/env python3
"""License, source and ban policy for every crate the provider is built from.

Reads `cargo metadata` offline (the lock file's resolve for the host platform) and
fails when a crate:
- has a license whose SPDX expression cannot be satisfied with the licenses below
  (all compatible with distributing the binary under MPL-2.0);
- comes from anywhere but crates.io (a git or path dependency other than this crate);
- is banned (TLS stacks other than rustls: the provider pins one TLS implementation).

`--self-test` checks the SPDX evaluation itself, so that the policy cannot pass
vacuously.
"""

import json
import re
import subprocess
import sys

ALLOWED_LICENSES = {
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC0-1.0",
    "ISC",
    "MIT",
    "MIT-0",
    "MPL-2.0",
    "Unicode-3.0",
    "Unlicense",
    "Zlib",
}
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
BANNED = {"openssl", "openssl-sys", "native-tls"}


def satisfiable(expression: str) -> bool:
    """Whether an SPDX expression holds with ALLOWED_LICENSES (`/` is the old OR)."""
    tokens = re.findall(r"\(|\)|[^\s()]+(?:\s+WITH\s+[^\s()]+)?", expression.replace("/", " OR "))
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def primary():
        token = take()
        if token == "(":
            value = either()
            if take() != ")":
                raise ValueError(f"unbalanced parentheses in {expression!r}")
            return value
        return token in ALLOWED_LICENSES

    def chain(operator, operand, combine):
        value = operand()
        while peek() == operator:
            take()
            value = combine(value, operand())
        return value

    def both():  # AND binds tighter than OR
        return chain("AND", primary, lambda a, b: a and b)

    def either():
        return chain("OR", both, lambda a, b: a or b)

    result = either()
    if position != len(tokens):
        raise ValueError(f"cannot read license expression {expression!r}")
    return result


def violations(packages):
    for package in packages:
        name = f"{package['name']} {package['version']}"
        license_ = package.get("license")
        if not license_:
            yield f"{name}: no license declared"
        elif not satisfiable(license_):
            yield f"{name}: license {license_!r} is not allowed"
        source = package.get("source")
        if source is not None and source != CRATES_IO:
            yield f"{name}: comes from {source}, not crates.io"
        if package["name"] in BANNED:
            yield f"{name}: banned"


def self_test():
    cases = {
        "MIT": True,
        "MIT OR Apache-2.0": True,
        "MIT/Apache-2.0": True,
        "GPL-3.0": False,
        "MIT OR GPL-3.0": True,
        "MIT AND GPL-3.0": False,
        "ISC AND (Apache-2.0 OR ISC) AND OpenSSL": False,
        "(MIT OR Apache-2.0) AND Unicode-3.0": True,
        "Apache-2.0 WITH LLVM-exception OR MIT": True,
        "AGPL-3.0-only": False,
    }
    for expression, expected in cases.items():
        assert satisfiable(expression) == expected, expression
    packages = [
        {"name": "good", "version": "1.0.0", "license": "MIT", "source": CRATES_IO},
        {"name": "copyleft", "version": "1.0.0", "license": "GPL-3.0", "source": CRATES_IO},
        {"name": "forked", "version": "1.0.0", "license": "MIT", "source": "git+https://example.invalid/forked"},
        {"name": "openssl-sys", "version": "0.9.0", "license": "MIT", "source": CRATES_IO},
    ]
    found = list(violations(packages))
    assert len(found) == 3 and not any(v.startswith("good") for v in found), found
    print(f"dependency policy self-test: {len(cases)} expressions, {len(packages)} packages: ok")


def main():
    if "--self-test" in sys.argv:
        self_test()
        return 0
    metadata = subprocess.run(
        ["cargo", "metadata", "--locked", "--offline", "--format-version", "1", "--filter-platform", host_triple()],
        check=True,
        capture_output=True,
        text=True,
    )
    packages = json.loads(metadata.stdout)["packages"]
    found = list(violations(packages))
    for line in found:
        print(f"dependency policy: {line}", file=sys.stderr)
    if found:
        return 1
    print(f"dependency policy: {len(packages)} crates, all from crates.io under allowed licenses, none banned")
    return 0


def host_triple():
    version = subprocess.run(["rustc", "-vV"], check=True, capture_output=True, text=True).stdout
    return next(line.split(": ", 1)[1] for line in version.splitlines() if line.startswith("host: "))


if __name__ == "__main__":
    sys.exit(main())
