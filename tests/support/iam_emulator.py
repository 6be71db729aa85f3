"""moto's server, as `moto_server` starts it, with two per-request costs taken out
(and, for some tests only, three changes, each behind its own variable).

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

# Only for the organization tests (IAMKEY_EMULATOR_ROLES_MUST_EXIST=1): moto grants
# AssumeRole on any role ARN, the role existing or not; AWS refuses a role that does
# not exist (AccessDenied), which is how an account without the audit role shows.
if os.environ.get("IAMKEY_EMULATOR_ROLES_MUST_EXIST") == "1":
    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError
    from moto.sts.models import STSBackend

    assume_any_role = STSBackend.assume_role

    def assume_existing_role(self, region_name, role_session_name, role_arn, *args, **kwargs):
        account, role_name = role_arn.split(":")[4], role_arn.split("/")[-1]
        if not any(role.name == role_name for role in iam_backends[account]["global"].roles.values()):
            raise STSClientError("AccessDenied", f"Not authorized to perform sts:AssumeRole on {role_arn}")
        return assume_any_role(self, region_name, role_session_name, role_arn, *args, **kwargs)

    STSBackend.assume_role = assume_existing_role

# Only for the organization tests (IAMKEY_EMULATOR_ROOT_KEYS_FILE=PATH): moto's
# account summary always reports AccountAccessKeysPresent 0, and no API of moto's
# gives a root user a key. The file names, one a line, the accounts whose root user
# the test says holds one; it is read at each GetAccountSummary.
root_keys_file = os.environ.get("IAMKEY_EMULATOR_ROOT_KEYS_FILE")
if root_keys_file:
    from moto.iam.models import AccountSummary

    moto_summary_map = AccountSummary.summary_map

    def summary_map_with_root_keys(self):
        summary = moto_summary_map.fget(self)
        with open(root_keys_file, encoding="utf-8") as declared:
            holders = declared.read().split()
        summary["AccountAccessKeysPresent"] = int(self._iam_backend.account_id in holders)
        return summary

    AccountSummary.summary_map = property(summary_map_with_root_keys)

if __name__ == "__main__":
    server.main()
