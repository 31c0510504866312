"""`PolicyDocuments`: a policy's document (DescribePolicy, 2/s) when someone opens it.

On demand only, at URGENT priority (ahead of everything queued): a crawl never reads every
document. A refused or failed call is published with its state and forgotten, so asking
again tries again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from pubsub.core.publisher import Publisher

from orgtree_tui.aws_errors import ErrorKind
from orgtree_tui.crawl import parse, topics
from orgtree_tui.crawl.task import URGENT, CallError, Task
from orgtree_tui.records import DetailState

Submit = Callable[[Task], bool]
Forget = Callable[[Hashable], None]


class PolicyDocuments:
    def __init__(self, publisher: Publisher, submit: Submit, forget: Forget) -> None:
        self.publisher = publisher
        self.submit = submit
        self._forget = forget

    def request(self, policy_id: str) -> None:
        key = ("policy-document", policy_id)

        def found(response: dict[str, Any]) -> None:
            record = response["Policy"]
            policy = parse.policy(record["PolicySummary"])
            self.publisher.sendMessage(
                topics.POLICY_DOCUMENT,
                policy_id=policy_id,
                policy=policy,
                content=str(record.get("Content", "")),
                state=DetailState.LOADED,
            )

        def failed(error: CallError) -> None:
            self._forget(key)  # asked again: try again
            state = DetailState.DENIED if error.kind is ErrorKind.DENIED else DetailState.FAILED
            self.publisher.sendMessage(
                topics.POLICY_DOCUMENT, policy_id=policy_id, policy=None, content=None, state=state
            )

        self.submit(Task("DescribePolicy", {"PolicyId": policy_id}, URGENT, found, failed, key=key))
