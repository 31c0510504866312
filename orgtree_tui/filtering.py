"""The `/` filter and its index: which nodes match a query, and what must show to reach them.

A node matches when the query (trimmed, case-insensitive) is a substring of its name, its
id, its email or any of its tag values; what shows is the matches and their ancestors.

The index is kept current as nodes and tags arrive (`add`, `set_tags`, `remove`), so a
keystroke never walks the tree in Python:

- every node's searchable text (fields casefolded, joined by a separator no query holds)
  sits in one flat haystack string; a query is a run of C-level `str.find` calls over it,
  one Python step per match (a query of one or two characters, which matches much of any
  tree, is one C-speed pass over the node texts instead);
- a query that extends the previous one (the user typed one more character) re-tests only
  the previous matches' texts, in C (`map`, `compress`): narrowing 10,000 matches of a
  52,000-node tree one find per match took 7-8 ms, this takes 2-3;
- ancestors come from the index's own parent links, each climb stopping at the first node
  already shown, so `shown` costs one step per node shown;
- display order is a walk down what is shown, children sorted as they are met, stopped
  once it has what was asked (the first screenful of matches).

A renamed or re-tagged node leaves a dead slot behind in the haystack and gets a new one;
the haystack is compacted once half of it is dead. Nothing here locks: the index belongs
to one thread (the UI's), which feeds it from the crawl's drained news.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import contains

from orgtree_tui.records import Node, sort_key
from orgtree_tui.tree_view import TreeView

_FIELD = "\x00"  # between a node's fields: a match never spans two of them
_NODE = "\x01"  # between nodes
SWEEP_UP_TO = 2  # characters: queries this short are answered by one pass over the texts
REFINE = True  # a query extending the previous one re-tests its matches only (tests: off)

SortKey = tuple[int, str, str]
PathKey = tuple[tuple[int, SortKey], ...]


def needle_of(query: str) -> str:
    """What is searched for: the query trimmed and casefolded ("" matches nothing)."""
    return query.strip().casefold()


def searchable(node: Node, tag_values: Iterable[str] | None) -> str:
    """The node's fields (and its tags' values) as one casefolded string, fields apart."""
    fields = [node.name, node.id, node.email or ""]
    if tag_values:
        fields.extend(tag_values)
    return _FIELD.join(f.casefold() for f in fields)


@dataclass
class FilterResult:
    """What one query matched: `ids` (unordered) and `shown` (the matches and their
    ancestors; read-only). `first` and `ordered` give display order (depth first, export
    order), worked out only when asked, by a walk over what is shown."""

    query: str
    ids: frozenset[str]
    index: FilterIndex = field(repr=False)
    version: int = 0  # the index's version when this was computed
    _shown: set[str] = field(default_factory=set, repr=False)
    # What the texts matched (before unrooted nodes were dropped) and those texts, for
    # the next query that extends this one; None: not kept.
    _found: tuple[list[str], list[str]] | None = field(default=None, repr=False)
    _ordered: list[str] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.ids

    def first(self, count: int) -> list[str]:
        """The first `count` matches in display order: the walk stops once it has them."""
        if self._ordered is not None:
            return self._ordered[:count]
        return self.index.in_order(self.ids, self._shown, count)

    def ordered(self) -> list[str]:
        """Every match in display order (for n / N)."""
        if self._ordered is None:
            self._ordered = self.index.in_order(self.ids, self._shown, len(self.ids))
        return self._ordered

    def shown(self) -> set[str]:
        return self._shown


class FilterIndex:
    """The filter's view of one tree (or forest): fields, parents and sort keys by id."""

    def __init__(self) -> None:
        self._tag_values: dict[str, tuple[str, ...]] = {}  # id -> its tags' values
        self._node: dict[str, Node] = {}
        self._children: dict[str, set[str]] = {}  # parent id -> child ids (present or not)
        self._slot: dict[str, int] = {}  # id -> its live slot in the haystack
        self._slot_ids: list[str | None] = []  # slot -> id (None: dead)
        self._slot_texts: list[str] = []  # slot -> its searchable text ("": dead)
        self._starts: list[int] = []  # slot -> where its text starts in the haystack
        self._hay = ""
        self._pending: list[str] = []  # texts appended since the haystack was last joined
        self._length = 0  # of the haystack with the pending texts
        self._dead = 0
        self._path_keys: dict[str, PathKey] = {}
        self._sort_keys: dict[str, SortKey] = {}
        self._parent: dict[str, str | None] = {}  # id -> parent id, for the climbs
        self._roots: set[str] = set()
        self._root_rank: dict[str, int] = {}
        self._last: FilterResult | None = None
        self.version = 0  # bumped by every change that can change a result
        # Nodes known to hang (or not) from a root, found while answering queries; valid
        # until the next structural change. A node whose parent has not arrived yet is
        # not in the tree the user sees, so it does not match.
        self._rooted: set[str] = set()
        self._unrooted: set[str] = set()

    @classmethod
    def of(cls, tree: TreeView) -> FilterIndex:
        """An index of everything the tree holds now (one pass; then keep it current)."""
        index = cls()
        nodes = tree.nodes()
        details = tree.details_of(n.id for n in nodes)
        for node in nodes:
            index.add(node, details[node.id].tags)
        index.order_roots([r.id for r in tree.roots()])
        return index

    def __len__(self) -> int:
        return len(self._node)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._node

    # -- keeping it current ----------------------------------------------------------------

    def add(self, node: Node, tags: Mapping[str, str] | None = None) -> None:
        """A node arrived, moved or was renamed (`tags` None: keep what is known)."""
        if tags is not None:
            self._tag_values[node.id] = tuple(tags.values())
        old = self._node.get(node.id)
        if old is not None and old.parent_id != node.parent_id and old.parent_id is not None:
            self._children.get(old.parent_id, set()).discard(node.id)
        if old is None or sort_key(old) != sort_key(node) or old.parent_id != node.parent_id:
            self._forget_path_keys(node.id)
        if old is None or old.parent_id != node.parent_id:
            self._rooted.clear()
            self._unrooted.clear()
        self._node[node.id] = node
        self._parent[node.id] = node.parent_id
        self._sort_keys[node.id] = sort_key(node)
        if node.parent_id is not None:
            self._children.setdefault(node.parent_id, set()).add(node.id)
            self._roots.discard(node.id)
        else:
            self._roots.add(node.id)
        self._put_text(node.id, searchable(node, self._tag_values.get(node.id)))

    def add_many(self, nodes: Iterable[Node]) -> None:
        for node in nodes:
            self.add(node)

    def set_tags(self, node_id: str, tags: Mapping[str, str] | None) -> None:
        """The node's tags arrived (None: it has none known)."""
        if tags is None:
            self._tag_values.pop(node_id, None)
        else:
            self._tag_values[node_id] = tuple(tags.values())
        node = self._node.get(node_id)
        if node is not None:
            self._put_text(node_id, searchable(node, self._tag_values.get(node_id)))

    def remove(self, node_id: str) -> None:
        """Drop a node and everything under it (as `OrgTree.remove` does)."""
        node = self._node.get(node_id)
        if node is None:
            return
        if node.parent_id is not None:
            self._children.get(node.parent_id, set()).discard(node_id)
        self._forget_path_keys(node_id)
        stack = [node_id]
        while stack:
            gone = stack.pop()
            stack.extend(self._children.pop(gone, ()))
            if self._node.pop(gone, None) is None:
                continue
            self._tag_values.pop(gone, None)
            self._sort_keys.pop(gone, None)
            self._parent.pop(gone, None)
            self._roots.discard(gone)
            self._kill_slot(gone)
        self._rooted.clear()
        self._unrooted.clear()
        self.version += 1

    def order_roots(self, root_ids: list[str]) -> None:
        """The roots in the order they show (with several organizations: theirs)."""
        rank = {r: i for i, r in enumerate(root_ids)}
        if rank != self._root_rank:
            self._root_rank = rank
            self._path_keys.clear()

    def _put_text(self, node_id: str, text: str) -> None:
        slot = self._slot.get(node_id)
        if slot is not None and self._slot_texts[slot] == text:
            return
        self._kill_slot(node_id)
        self._slot[node_id] = len(self._slot_ids)
        self._slot_ids.append(node_id)
        self._slot_texts.append(text)
        self._starts.append(self._length)
        piece = text + _NODE
        self._pending.append(piece)
        self._length += len(piece)
        self.version += 1

    def _kill_slot(self, node_id: str) -> None:
        slot = self._slot.pop(node_id, None)
        if slot is not None:
            self._slot_ids[slot] = None
            self._slot_texts[slot] = ""
            self._dead += 1

    def _haystack(self) -> str:
        if self._dead > 1_000 and 2 * self._dead > len(self._slot_ids):
            self._compact()
        if self._pending:
            self._hay += "".join(self._pending)  # one copy in C, however many were added
            self._pending.clear()
        return self._hay

    def _compact(self) -> None:
        texts = {i: self._slot_texts[slot] for i, slot in self._slot.items()}
        self._slot, self._slot_ids, self._slot_texts, self._starts = {}, [], [], []
        self._hay, self._pending, self._length, self._dead = "", [], 0, 0
        for node_id, text in texts.items():
            self._put_text(node_id, text)

    # -- queries ---------------------------------------------------------------------------

    def query(self, query: str) -> FilterResult:
        """Every node matching `query` (see the module's docstring)."""
        needle = needle_of(query)
        if not needle:
            return FilterResult(query, frozenset(), self, self.version, set())
        last = self._last
        found: tuple[list[str], list[str]] | None = None
        if _FIELD in needle or _NODE in needle:
            ids = self._check(needle, self._node)  # the separators would fool the scan
        elif (
            REFINE
            and last is not None
            and last._found is not None
            and last.version == self.version
            and (previous := needle_of(last.query))
            and previous in needle
        ):
            found = _narrow(*last._found, needle)  # a match of the longer is one of the shorter
            ids = found[0]
        elif len(needle) <= SWEEP_UP_TO:
            found = _narrow(self._slot_ids, self._slot_texts, needle)  # type: ignore[arg-type]
            ids = found[0]
        else:
            found = self._scan(needle)
            ids = found[0]
        matched, shown = self._with_ancestors_from_a_root(ids)
        result = FilterResult(query, frozenset(matched), self, self.version, shown, _found=found)
        self._last = result
        return result

    def _check(self, needle: str, candidates: Iterable[str]) -> list[str]:
        slots, texts = self._slot, self._slot_texts
        found = []
        for node_id in candidates:
            slot = slots.get(node_id)
            if slot is not None and any(needle in f for f in texts[slot].split(_FIELD)):
                found.append(node_id)
        return found

    def _scan(self, needle: str) -> tuple[list[str], list[str]]:
        """One C-level `find` per match over the haystack: the matches and their texts."""
        hay, starts, slot_ids, texts = (
            self._haystack(),
            self._starts,
            self._slot_ids,
            self._slot_texts,
        )
        found: list[str] = []
        found_texts: list[str] = []
        last_slot = len(starts) - 1
        pos = hay.find(needle)
        while pos >= 0:
            slot = bisect_right(starts, pos) - 1
            node_id = slot_ids[slot]
            if node_id is not None:
                found.append(node_id)
                found_texts.append(texts[slot])
            pos = hay.find(needle, starts[slot + 1] if slot < last_slot else len(hay))
        return found, found_texts

    def _with_ancestors_from_a_root(self, ids: list[str]) -> tuple[list[str], set[str]]:
        """The ids whose chain of parents reaches a root, and those chains. Matches share
        few parents (accounts are leaves): the parents are collected in C, and only they
        climb, each climb stopping at a node already decided."""
        parent = self._parent
        above = set(map(parent.get, ids))
        above.discard(None)
        hanging = {p for p in above if self._hangs(p)}
        out = ids
        if len(hanging) != len(above):  # some hang from a missing parent: not in the tree
            out = [i for i in ids if (p := parent[i]) is None or p in hanging]
        shown = set(out)
        for p in hanging:
            current: str | None = p
            while current is not None and current not in shown:
                shown.add(current)
                current = parent[current]
        return out, shown

    def _hangs(self, node_id: str | None) -> bool:
        """Whether the node is in the index and its parents reach a root (cached until
        the next structural change)."""
        rooted, unrooted, parent = self._rooted, self._unrooted, self._parent
        chain: list[str] = []
        current = node_id
        hangs = True
        while current is not None and current not in rooted:
            if current in unrooted or current not in parent or len(chain) > len(parent):
                hangs = False  # a missing parent or a cycle (bad data)
                break
            chain.append(current)
            current = parent[current]
        (rooted if hangs else unrooted).update(chain)
        return hangs

    def in_order(self, ids: frozenset[str], shown: set[str], count: int) -> list[str]:
        """The first `count` of `ids` in display order, walking down `shown` only."""
        nodes, children, keys = self._node, self._children, self._sort_keys
        rank = self._root_rank
        roots = sorted(
            (r for r in self._roots if r in shown),
            key=lambda r: (rank.get(r, len(rank)), keys[r]),
        )
        out: list[str] = []
        stack = roots[::-1]
        while stack and len(out) < count:
            node_id = stack.pop()
            if node_id in ids:
                out.append(node_id)
            kids = [c for c in children.get(node_id, ()) if c in shown and c in nodes]
            kids.sort(key=keys.__getitem__, reverse=True)
            stack.extend(kids)
        return out

    def with_ancestors(self, ids: Iterable[str]) -> set[str]:
        """The nodes plus every node on the way down to them (that the index holds)."""
        shown: set[str] = set()
        nodes = self._node
        for node_id in ids:
            current: str | None = node_id
            while current is not None and current not in shown and current in nodes:
                shown.add(current)
                current = nodes[current].parent_id
        return shown

    def path_key(self, node_id: str) -> PathKey:
        """Sorts nodes in display order: roots in their order, then export order below."""
        known = self._path_keys.get(node_id)
        if known is not None:
            return known
        chain: list[Node] = []
        node = self._node.get(node_id)
        while node is not None and node.id not in self._path_keys and len(chain) <= len(self):
            chain.append(node)
            node = self._node.get(node.parent_id) if node.parent_id is not None else None
        key: PathKey = self._path_keys[node.id] if node is not None else ()
        for link in reversed(chain):
            rank = self._root_rank.get(link.id, len(self._root_rank))
            step = (rank if link.parent_id is None else 0, sort_key(link))
            key = (*key, step)
            self._path_keys[link.id] = key
        return key

    def _forget_path_keys(self, node_id: str) -> None:
        """A rename or move changes the keys of the node and all below it."""
        if not self._path_keys:
            return
        stack, seen = [node_id], {node_id}
        while stack:
            current = stack.pop()
            if self._path_keys.pop(current, None) is not None or current == node_id:
                fresh = self._children.get(current, set()) - seen
                seen |= fresh
                stack.extend(fresh)


def _narrow(ids: list[str], texts: list[str], needle: str) -> tuple[list[str], list[str]]:
    """The ids whose texts hold `needle`, and those texts: every text tested in C (`map`,
    `compress`: no Python step per text), cheaper than a find per match when the texts
    are a previous query's matches or the query matches much of the tree anyway (dead
    slots hold "" and never match)."""
    hits = list(map(contains, texts, repeat(needle)))
    return list(compress(ids, hits)), list(compress(texts, hits))


NO_MATCHES = FilterResult("", frozenset(), FilterIndex())  # no filter: nothing matched
