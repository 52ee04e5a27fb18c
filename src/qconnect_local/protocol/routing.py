"""Routes a request (method + raw path) to an operation of the model.

Each path segment is percent-decoded *after* splitting on '/', so an ARN label
(`arn%3Aaws%3Awisdom%3A...%2F<uuid>`) stays one segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from botocore.model import OperationModel, ServiceModel


@dataclass(frozen=True)
class Route:
    operation: OperationModel
    # For each segment: ("lit", text) or ("label", name) or ("greedy", name)
    segments: tuple[tuple[str, str], ...]
    fixed_query: tuple[tuple[str, str], ...]

    @property
    def specificity(self) -> tuple[int, ...]:
        # Literal segments beat labels, earlier literals count more.
        return tuple(1 if kind == "lit" else 0 for kind, _ in self.segments)


def _compile(op: OperationModel) -> Route:
    uri = op.http["requestUri"]
    path, _, query = uri.partition("?")
    segments = []
    for seg in path.strip("/").split("/") if path.strip("/") else []:
        if seg.startswith("{") and seg.endswith("}"):
            name = seg[1:-1]
            if name.endswith("+"):
                segments.append(("greedy", name[:-1]))
            else:
                segments.append(("label", name))
        else:
            segments.append(("lit", seg))
    fixed = tuple((k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p))
    return Route(op, tuple(segments), fixed)


class Router:
    def __init__(self, model: ServiceModel) -> None:
        self._by_method: dict[str, list[Route]] = {}
        for name in model.operation_names:
            route = _compile(model.operation_model(name))
            self._by_method.setdefault(route.operation.http["method"], []).append(route)
        for routes in self._by_method.values():
            routes.sort(key=lambda r: r.specificity, reverse=True)
        # The common, non-greedy case: by (method, segment count), then per group of routes with
        # literals at the same positions (most specific group first: the sort's order), a dict
        # from those literals to the routes: one lookup per group instead of a test per route.
        self._index: dict[tuple[str, int], list[tuple[tuple[int, ...], dict[tuple[str, ...], list[Route]]]]] = {}
        for method, routes in self._by_method.items():
            for r in routes:
                if any(kind == "greedy" for kind, _ in r.segments):
                    continue
                groups = self._index.setdefault((method, len(r.segments)), [])
                positions = tuple(i for i, (kind, _) in enumerate(r.segments) if kind == "lit")
                if not groups or groups[-1][0] != positions:
                    groups.append((positions, {}))
                literals = tuple(r.segments[i][1] for i in positions)
                groups[-1][1].setdefault(literals, []).append(r)

    def match(
        self, method: str, raw_path: str, query_keys: set[str] | frozenset[str] = frozenset()
    ) -> tuple[OperationModel, dict[str, str]] | None:
        parts = raw_path.strip("/").split("/") if raw_path.strip("/") else []
        # A trailing slash means an empty last label (`GET /knowledgeBases/`).
        if raw_path.endswith("/") and raw_path != "/":
            parts.append("")
        parts = [unquote(p) if "%" in p else p for p in parts]
        for positions, by_literals in self._index.get((method, len(parts)), ()):
            for route in by_literals.get(tuple([parts[i] for i in positions]), ()):
                if all(k in query_keys for k, _ in route.fixed_query):
                    return route.operation, _labels(route, parts)
        for route in self._by_method.get(method, ()):
            if any(kind == "greedy" for kind, _ in route.segments):
                labels = _match_greedy(route, parts)
                if labels is not None:
                    return route.operation, labels
        return None


def _labels(route: Route, parts: list[str]) -> dict[str, str]:
    return {text: part for (kind, text), part in zip(route.segments, parts, strict=True) if kind != "lit"}


def _match_greedy(route: Route, parts: list[str]) -> dict[str, str] | None:
    labels: dict[str, str] = {}
    for i, (kind, text) in enumerate(route.segments):
        if kind == "greedy":
            labels[text] = "/".join(parts[i:])
            return labels if labels[text] else None
        if i >= len(parts):
            return None
        if kind == "lit" and parts[i] != text:
            return None
        if kind == "label":
            labels[text] = parts[i]
    return labels if len(parts) == len(route.segments) else None
