"""Small hand-shaped organizations for tests, built through a real (moto) client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Built:
    root_id: str
    ous: dict[str, str] = field(default_factory=dict)  # name path -> id
    accounts: dict[str, str] = field(default_factory=dict)  # name -> id
    parents: dict[str, str] = field(default_factory=dict)  # id -> parent id
    tags: dict[str, dict[str, str]] = field(default_factory=dict)


class OrgBuilder:
    def __init__(self, client: Any) -> None:
        self.client = client
        client.create_organization(FeatureSet="ALL")
        root_id = client.list_roots()["Roots"][0]["Id"]
        self.built = Built(root_id)
        self._n = 0

    def ou(self, name: str, parent: str | None = None, tags: dict[str, str] | None = None) -> str:
        parent_id = parent or self.built.root_id
        ou_id = self.client.create_organizational_unit(ParentId=parent_id, Name=name)[
            "OrganizationalUnit"
        ]["Id"]
        self.built.ous[name] = ou_id
        self.built.parents[ou_id] = parent_id
        self._tag(ou_id, tags)
        return ou_id

    def account(
        self, name: str, parent: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        self._n += 1
        status = self.client.create_account(Email=f"acct{self._n}@example.com", AccountName=name)
        account_id = status["CreateAccountStatus"]["AccountId"]
        if parent:
            self.client.move_account(
                AccountId=account_id, SourceParentId=self.built.root_id, DestinationParentId=parent
            )
        self.built.accounts[name] = account_id
        self.built.parents[account_id] = parent or self.built.root_id
        self._tag(account_id, tags)
        return account_id

    def _tag(self, resource: str, tags: dict[str, str] | None) -> None:
        if tags:
            self.client.tag_resource(
                ResourceId=resource, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )
            self.built.tags[resource] = dict(tags)
