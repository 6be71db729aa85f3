"""moto's server, as `moto_server` starts it, with two per-request costs taken out.

The tests and the benchmark make thousands of IAM calls; measured with py-spy, moto
spent about a third of each one outside IAM: finding the backend for the request's
host (a directory listing of moto's package and a match against every service's URL
patterns, under a global lock) and logging the request line to stderr. Both are pure
overhead here: the backend of a host never changes while the server runs, and nobody
reads the request lines. What moto answers is unchanged.

Usage: iam_emulator.py -H 127.0.0.1 -p PORT (the arguments of moto_server).
"""

import functools
import os

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

# The backend for a host depends only on the host and on tables fixed at import.
DomainDispatcherApplication.get_backend_for_host = functools.lru_cache(maxsize=None)(
    DomainDispatcherApplication.get_backend_for_host
)
# Start-up lines ("Running on ...") still print: only per-request lines go.
server.MotoRequestHandler.log_request = lambda self, code="-", size="-": None

# Only for the permissions test (IAMKEY_EMULATOR_UNSIGNED_POLICIES=1), which proves
# which IAM actions each feature needs: moto checks a SigV4 signature against the
# form as it re-encodes it, not against the bytes sent, so requests whose values
# the Rust SDK encodes differently (a space, a colon in the ephemeral marker tag)
# fail with SignatureDoesNotMatch. The signing key still decides the caller, and
# that caller's policies still decide every action.
if os.environ.get("IAMKEY_EMULATOR_UNSIGNED_POLICIES") == "1":
    from moto.iam.access_control import IAMRequestBase

    IAMRequestBase.check_signature = lambda self: None

if __name__ == "__main__":
    server.main()
