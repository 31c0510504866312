"""The design orgtree-tui inherited, rebuilt faithfully for comparison.

pypubsub subscribers put tasks on a queue; a fixed ThreadPoolExecutor runs them; a loop
polls the futures every 0.1 s and publishes what they found. The boto3 client has default
settings, so throttled calls are retried a few times by botocore and then fail: their branch
is simply lost, which is what the benchmark shows.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from pubsub.core.publisher import Publisher

POLL_INTERVAL = 0.1


@dataclass
class InheritedResult:
    nodes: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # id -> type, parent
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    failed: int = 0
    structure_done_at: float | None = None
    elapsed: float = 0.0


Found = list[tuple[str, dict[str, Any]]]


def inherited_crawl(
    endpoint_url: str,
    workers: int,
    *,
    expected_nodes: int,
    details: bool = True,
) -> InheritedResult:
    client = boto3.client(
        "organizations",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    publisher = Publisher()
    tasks: queue.Queue[Callable[[], Found]] = queue.Queue()
    result = InheritedResult()
    started = time.monotonic()

    def list_ous(parent: str) -> Found:
        pages = client.get_paginator("list_organizational_units_for_parent").paginate(
            ParentId=parent
        )
        return [
            ("ou", {"id": ou["Id"], "parent": parent})
            for page in pages
            for ou in page["OrganizationalUnits"]
        ]

    def list_accounts(parent: str) -> Found:
        pages = client.get_paginator("list_accounts_for_parent").paginate(ParentId=parent)
        return [
            ("account", {"id": a["Id"], "parent": parent})
            for page in pages
            for a in page["Accounts"]
        ]

    def list_tags(resource: str) -> Found:
        tags = client.list_tags_for_resource(ResourceId=resource)["Tags"]
        return [("tags", {"id": resource, "tags": {t["Key"]: t["Value"] for t in tags}})]

    class Subscribers:
        def on_parent(self, id: str, parent: str | None) -> None:
            self.placed(id, "parent", parent)
            tasks.put(lambda: list_ous(id))
            tasks.put(lambda: list_accounts(id))
            if details:
                tasks.put(lambda: list_tags(id))

        def on_account(self, id: str, parent: str | None) -> None:
            self.placed(id, "account", parent)
            if details:
                tasks.put(lambda: list_tags(id))

        def on_tags(self, id: str, tags: dict[str, str]) -> None:
            result.tags[id] = tags

        def placed(self, node_id: str, kind: str, parent: str | None) -> None:
            result.nodes[node_id] = (kind, parent)
            if result.structure_done_at is None and len(result.nodes) >= expected_nodes:
                result.structure_done_at = time.monotonic() - started

    subscribers = Subscribers()
    publisher.subscribe(subscribers.on_parent, "ou")
    publisher.subscribe(subscribers.on_parent, "root")
    publisher.subscribe(subscribers.on_account, "account")
    publisher.subscribe(subscribers.on_tags, "tags")

    try:
        roots = client.list_roots()["Roots"]
    except Exception:
        result.failed += 1
        roots = []
    for root in roots:
        publisher.sendMessage("root", id=root["Id"], parent=None)

    futures: list[Future[Found]] = []
    with ThreadPoolExecutor(max_workers=workers) as executor:
        while not tasks.empty() or futures:
            while not tasks.empty():
                futures.append(executor.submit(tasks.get()))
            time.sleep(POLL_INTERVAL)
            still_running = []
            for future in futures:
                if not future.done():
                    still_running.append(future)
                    continue
                try:
                    found = future.result()
                except Exception:
                    result.failed += 1
                    continue
                for topic, data in found:
                    publisher.sendMessage(topic, **data)
            futures = still_running
    result.elapsed = time.monotonic() - started
    return result
