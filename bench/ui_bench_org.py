"""The organization bench/ui_bench.py streams: AWS's maxima in moto's server, in a child process.

    python bench/ui_bench_org.py --accounts 50000 --ous 2000 [--latency 0] [--seed 7]

Prints one JSON line on stdout once the endpoint answers (its URL, what was built, how long it
took), then serves until its standard input closes. moto runs in its own process so that its
memory and CPU time are not counted as the app's.

The plan is the project's own generator (`orgtree_tui.demo.plan_org`: five levels of OUs,
realistic names and tags, some suspended accounts, SCPs). Two things make moto usable at
50,000 accounts, and neither changes what a client sees:

- Building: the plan is written straight into moto's Organizations backend, with moto's own
  `create_organization`, `create_organizational_unit`, `FakeAccount` and `create_policy`,
  instead of ~100,000 HTTP calls. The default-policy attachment of each new account is done
  by hand (moto's `attach_policy` finds the account by scanning every account), and member
  accounts get no OrganizationAccountAccessRole in moto's IAM (nothing here reads it, and
  moto's registry of per-account backends is quadratic to fill).
- Serving: moto's backend finds accounts and OUs by scanning lists and rebuilds the whole
  result list for every page, which is quadratic at this size (each ListAccounts page would
  describe 50,000 accounts). Once the org is built, those lookups are answered from dicts,
  and ListAccounts pages by offset. Requests still go through moto's server, its request
  parsing and its response code; the org does not change while the bench runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orgtree_tui.demo import MAX_DEPTH, SCP, OrgPlan, OrgSpec, plan_org
from orgtree_tui.sim.server import REGION, SimServer


def org_spec(accounts: int, ous: int, seed: int) -> OrgSpec:
    """`accounts` includes the management account; five levels when there are 5+ OUs."""
    return OrgSpec(
        accounts=accounts,
        ous=ous,
        depth=min(MAX_DEPTH, ous),
        tags=True,
        scps=12,
        suspended=accounts // 1000,
        seed=seed,
    )


def build(spec: OrgSpec) -> dict[str, Any]:
    """Write `spec`'s organization into moto's backend; return what a crawl should find."""
    plan = plan_org(spec)
    with mock.patch("moto.iam.iam_backends", _NoIam()):
        return _build(plan)


def _build(plan: OrgPlan) -> dict[str, Any]:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.organizations import utils
    from moto.organizations.models import FakeAccount, organizations_backends

    backend = organizations_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_organization(region=REGION, FeatureSet="ALL")
    org = backend.org
    assert org is not None
    root, management = backend.ou[0], backend.accounts[0]
    root.tags.update(plan.root_tags)
    management.tags.update(plan.management_tags)

    ou_ids: list[str] = []
    for ou in plan.ous:
        parent_id = org.root_id if ou.parent is None else ou_ids[ou.parent]
        made = backend.create_organizational_unit(
            ParentId=parent_id, Name=ou.name, Tags=_tag_list(ou.tags)
        )
        ou_ids.append(made["OrganizationalUnit"]["Id"])

    defaults = [backend.get_policy_by_id(utils.DEFAULT_SCP_POLICY_ID)]
    defaults.append(backend.get_policy_by_id(utils.DEFAULT_RCP_POLICY_ID))
    taken = {management.id}
    account_ids: list[str] = []
    for n, planned in enumerate(plan.accounts):
        account = FakeAccount(
            org, AccountName=planned.name, Email=planned.email, Tags=_tag_list(planned.tags)
        )
        while account.id in taken:  # 12 random digits: a clash is rare, not impossible
            account.id = utils.make_random_account_id()
        taken.add(account.id)
        account.parent_id = org.root_id if planned.parent is None else ou_ids[planned.parent]
        # Distinct join times, a second apart: ListAccounts is ordered by them.
        account.create_time = management.create_time + timedelta(seconds=n + 1)
        for policy in defaults:
            account.attached_policies.append(policy)
            policy.attachments.append(account)
        if planned.suspended:
            account.close()
        backend.accounts.append(account)
        organizations_backends.master_accounts[account.id] = (DEFAULT_ACCOUNT_ID, "aws")
        account_ids.append(account.id)

    refs = {"root": org.root_id, "mgmt": management.id}
    refs.update({f"ou:{i}": ou_id for i, ou_id in enumerate(ou_ids)})
    refs.update({f"acct:{i}": account_id for i, account_id in enumerate(account_ids)})
    for planned_policy in plan.policies:
        made = backend.create_policy(
            Name=planned_policy.name,
            Description=planned_policy.description,
            Content=planned_policy.content,
            Type=SCP,
        )
        for target in planned_policy.targets:
            backend.attach_policy(
                PolicyId=made["Policy"]["PolicySummary"]["Id"], TargetId=refs[target]
            )

    index_backend(backend)
    return {
        "organization_id": org.id,
        "root_id": org.root_id,
        "ous": len(ou_ids),
        "accounts": len(backend.accounts),
        "nodes": 1 + len(ou_ids) + len(backend.accounts),
    }


def index_backend(backend: Any) -> None:
    """Answer moto's scanning lookups from dicts (the org must not change afterwards)."""
    from botocore.paginate import TokenDecoder, TokenEncoder
    from moto.core.exceptions import InvalidToken
    from moto.organizations.exceptions import (
        AccountNotFoundException,
        InvalidInputException,
        TargetNotFoundException,
    )
    from moto.organizations.exceptions import OrganizationsClientError as RESTError
    from moto.organizations.utils import PAGINATION_MODEL
    from moto.utilities.paginator import paginate

    accounts = {a.id: a for a in backend.accounts}
    ous = {o.id: o for o in backend.ou}  # the root too, as in moto's list
    joined = sorted(backend.accounts, key=lambda a: a.create_time)  # moto's ListAccounts order
    accounts_under: dict[str, list[Any]] = defaultdict(list)
    for account in joined:
        accounts_under[account.parent_id].append(account)
    ous_under: dict[str, list[Any]] = defaultdict(list)
    for ou in backend.ou:
        ous_under[ou.parent_id].append(ou)
    described = [a.describe() for a in joined]
    page_size: int = PAGINATION_MODEL["list_accounts"]["limit_default"]  # type: ignore[assignment]

    def get_account_by_id(account_id: str) -> Any:
        account = accounts.get(account_id)
        if account is None:
            raise AccountNotFoundException
        return account

    def get_organizational_unit_by_id(ou_id: str) -> Any:
        ou = ous.get(ou_id)
        if ou is None:
            raise RESTError(
                "OrganizationalUnitNotFoundException",
                "You specified an organizational unit that doesn't exist.",
            )
        return ou

    # Same names as moto's methods: its paginate decorator looks its settings up by name.
    @paginate(pagination_model=PAGINATION_MODEL)
    def list_organizational_units_for_parent(parent_id: str) -> list[Any]:
        return ous_under.get(backend.validate_parent_id(parent_id), [])

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_accounts_for_parent(parent_id: str) -> list[Any]:
        return accounts_under.get(backend.validate_parent_id(parent_id), [])

    def list_accounts(
        max_results: int | None = None, next_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        start = 0
        if next_token:
            try:
                start = int(TokenDecoder().decode(next_token)["offset"])
            except (ValueError, TypeError, KeyError) as e:
                raise InvalidToken("Invalid token") from e
        end = start + (max_results or page_size)
        token = TokenEncoder().encode({"offset": end}) if end < len(described) else None
        return described[start:end], token

    def list_children(**kwargs: Any) -> dict[str, Any]:
        parent_id = backend.validate_parent_id(kwargs["ParentId"])
        kind = kwargs["ChildType"]
        if kind == "ACCOUNT":
            found = accounts_under.get(parent_id, [])
        elif kind == "ORGANIZATIONAL_UNIT":
            found = ous_under.get(parent_id, [])
        else:
            raise InvalidInputException("You specified an invalid value.")
        return {"Children": [{"Id": child.id, "Type": kind} for child in found]}

    def _get_resource_for_tagging(resource_id: str) -> Any:
        found = accounts.get(resource_id) or ous.get(resource_id)
        if found is None:
            found = next((p for p in backend.policies if p.id == resource_id), None)
        if found is None:
            raise TargetNotFoundException
        return found

    for method in (
        get_account_by_id,
        get_organizational_unit_by_id,
        list_organizational_units_for_parent,
        list_accounts_for_parent,
        list_accounts,
        list_children,
        _get_resource_for_tagging,
    ):
        setattr(backend, method.__name__, method)


class _NoIam:
    """Stands in for moto's IAM backends while accounts are made: their role is dropped."""

    def __getitem__(self, key: str) -> _NoIam:
        return self

    def create_role(self, **kwargs: Any) -> None:
        return None


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--ous", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    args = parser.parse_args()
    server = SimServer(latency=(args.latency, args.latency), throttle=False, seed=args.seed)
    server.start()
    try:
        started = time.perf_counter()
        built = build(org_spec(args.accounts, args.ous, args.seed))
        built["build_seconds"] = time.perf_counter() - started
        built["endpoint"] = server.endpoint_url
        print(json.dumps(built), flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin (or dies)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
