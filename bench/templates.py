"""SearchMessageTemplates beside SearchQuickResponses (same run, same client, same number of
records with the same names and descriptions, the same query classes), and RenderMessageTemplate
calls/s, through boto3 against a `qconnect-local serve` process.

    flock /tmp/qc-bench.lock python bench/templates.py                         # 200 (the default quota)
    flock /tmp/qc-bench.lock python bench/templates.py --count 100000          # SQLite
    flock /tmp/qc-bench.lock python bench/templates.py --count 100000 --database-url postgresql://...

Loading: the server creates the two knowledge bases (API), stops, and the records are written
through the storage layer's bulk paths in one write session each (`insert_message_templates_bulk`,
`insert_quick_responses_bulk`: the rows and their search index, no HTTP), records made by the
rules the Create operations use (`prepare_message_template`, `prepare_quick_response`); then the
server starts again on that data. The text is bench/search.py's (a 20,000-word vocabulary with
Zipf frequencies): a template has the name, description, language and routing profiles of the
quick response of the same number, and is EMAIL when that one is on the Email channel, else SMS.

Each query class is sent `--repeat` times (after a warm-up whose fuzzy searches wait for the
search vocabulary) with maxResults 25, alternating the two operations, so that both see the same
machine load.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from qconnect_local.config import Settings  # noqa: E402
from qconnect_local.operations.context import RequestContext  # noqa: E402
from qconnect_local.operations.message_templates import prepare_message_template  # noqa: E402
from qconnect_local.operations.quick_responses import prepare_quick_response  # noqa: E402
from qconnect_local.storage import open_store  # noqa: E402
from support import ServerProcess  # noqa: E402

_spec = importlib.util.spec_from_file_location("search_bench", Path(__file__).with_name("search.py"))
assert _spec is not None and _spec.loader is not None
search_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(search_bench)

ACCOUNT, REGION = search_bench.ACCOUNT, search_bench.REGION


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000


def template_params(qr: dict[str, Any]) -> dict[str, Any]:
    """The template of the same number as a quick response's CreateQuickResponse input."""
    body = {"plainText": {"content": "Hi {{Attributes.Customer.FirstName}}, " + qr["description"]}}
    email = "Email" in qr["channels"]
    params: dict[str, Any] = {
        "name": qr["name"],
        "description": qr["description"],
        "channelSubtype": "EMAIL" if email else "SMS",
        "content": {"email": {"subject": qr["name"], "body": body}} if email else {"sms": {"body": body}},
        "language": qr["language"],
    }
    if "groupingConfiguration" in qr:
        params["groupingConfiguration"] = qr["groupingConfiguration"]
    return params


def load(database: str, data_dir: Path, mt_kb: str, qr_kb: str, count: int) -> dict[str, float]:
    settings = Settings(data_dir=data_dir)
    store = open_store(database)
    ctx = RequestContext(ACCOUNT, REGION, f"arn:aws:iam::{ACCOUNT}:root", store, settings)
    with store.read() as session:
        mt = session.get_knowledge_base(ACCOUNT, REGION, mt_kb)
        qr = session.get_knowledge_base(ACCOUNT, REGION, qr_kb)
    assert mt is not None and qr is not None, "the server's account is not the bench's"
    t0 = time.perf_counter()
    qr_params = list(search_bench.generate(count, 18))
    templates = [prepare_message_template(ctx, mt, template_params(p)) for p in qr_params]
    quick_responses = [prepare_quick_response(ctx, qr, p) for p in qr_params]
    prepared = time.perf_counter() - t0
    t0 = time.perf_counter()
    with store.write() as session:
        session.insert_message_templates_bulk(ACCOUNT, REGION, mt_kb, templates)
    mt_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with store.write() as session:
        session.insert_quick_responses_bulk(ACCOUNT, REGION, qr_kb, quick_responses)
    qr_s = time.perf_counter() - t0
    store.close()
    return {"prepare_s": prepared, "templates_s": mt_s, "quick_responses_s": qr_s}


def query_classes(rng: random.Random) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """(SearchMessageTemplates expression, SearchQuickResponses expression) per class."""
    vocab = search_bench.make_vocabulary(random.Random(18))
    profile = search_bench.ROUTING_PROFILES[3]

    def q(field: str, value: str, op: str = "CONTAINS", **kw: Any) -> dict[str, Any]:
        return {"name": field, "values": [value], "operator": op, **kw}

    def both(expression: dict[str, Any], mt_filters=(), qr_filters=()) -> tuple[dict[str, Any], dict[str, Any]]:
        mt, qr = dict(expression), dict(expression)
        if mt_filters:
            mt["filters"] = list(mt_filters)
            qr["filters"] = list(qr_filters)
        return mt, qr

    name_word = vocab[rng.randrange(2000)]
    fuzzy = vocab[rng.randrange(50, 400)]
    fuzzy = fuzzy[:-1] + ("a" if fuzzy[-1] != "a" else "e") if len(fuzzy) >= 4 else fuzzy + "x"
    email = {"name": "channelSubtype", "values": ["EMAIL"], "operator": "EQUALS"}
    email_qr = {"name": "channels", "values": ["Email"], "operator": "EQUALS"}
    grouped = {"name": "groupingConfiguration.values", "values": [profile], "operator": "EQUALS"}
    french = {"name": "language", "values": ["fr_FR"], "operator": "EQUALS"}
    return {
        "name CONTAINS a word": both({"queries": [q("name", name_word)]}),
        "name CONTAINS + channel filter": both({"queries": [q("name", name_word)]}, [email], [email_qr]),
        "name 3-char CONTAINS_AND_PREFIX": both(
            {"queries": [q("name", vocab[rng.randrange(200)][:3], "CONTAINS_AND_PREFIX")]}
        ),
        "description 2 common words": both({"queries": [q("description", f"{vocab[1]} {vocab[2]}")]}),
        "name + description, priorities": both(
            {"queries": [q("name", name_word, priority="HIGH"), q("description", vocab[5], priority="LOW")]}
        ),
        "fuzzy name word": both({"queries": [q("name", fuzzy, allowFuzziness=True)]}),
        "filters only: profile + language": both({}, [grouped, french], [grouped, french]),
        **filter_classes(both, profile),
        "orderOnField lastModifiedTime DESC": both({"orderOnField": {"name": "lastModifiedTime", "order": "DESC"}}),
    }


def filter_classes(both, profile: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Filters without words: every filter kind, alone (each class: the templates' filter, the
    quick responses' one of the same kind)."""

    def f(name: str, *values: str, op: str = "EQUALS", missing: bool = False) -> dict[str, Any]:
        return {
            "name": name,
            "values": list(values),
            "operator": op,
            **({"includeNoExistence": True} if missing else {}),
        }

    grouped = "groupingConfiguration.values"
    same = {
        "filters only: language fr_FR": [f("language", "fr_FR")],
        "filters only: 2 languages or none": [f("language", "fr_FR", "de_DE", missing=True)],
        "filters only: routing profile": [f(grouped, profile)],
        "filters only: name PREFIX": [f("name", "Zu", op="PREFIX")],
        "filters only: description PREFIX": [f("description", "Zuz", op="PREFIX")],
        "filters only: lastModifiedBy (none)": [f("lastModifiedBy", "arn:aws:iam::000000000000:user/nobody")],
        "filters only: createdTime (none)": [f("createdTime", "1700000000")],
        "filters only: criteria": [f("groupingConfiguration.criteria", "RoutingProfileArn")],
    }
    classes = {label: both({}, flts, flts) for label, flts in same.items()}
    classes["filters only: channel (Email)"] = both({}, [f("channelSubtype", "EMAIL")], [f("channels", "Email")])
    classes["filters only: qualifier / isActive=false"] = both(
        {}, [f("qualifier", "$ACTIVE_VERSION")], [f("isActive", "false")]
    )
    classes["filters only: SMS / Chat + profile or none"] = both(
        {},
        [f("channelSubtype", "SMS"), f(grouped, profile, missing=True)],
        [f("channels", "Chat"), f(grouped, profile, missing=True)],
    )
    return classes


def measure(client, mt_kb: str, qr_kb: str, classes, repeat: int) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for label, (mt_expr, qr_expr) in classes.items():

        def mt_call(expr=mt_expr):
            return client.search_message_templates(knowledgeBaseId=mt_kb, maxResults=25, searchExpression=expr)

        def qr_call(expr=qr_expr):
            return client.search_quick_responses(knowledgeBaseId=qr_kb, maxResults=25, searchExpression=expr)

        for _ in range(5):
            mt_call(), qr_call()
        samples: dict[str, list[float]] = {"mt": [], "qr": [], "mt_results": [], "qr_results": []}
        for _ in range(repeat):
            for key, call in (("mt", mt_call), ("qr", qr_call)):
                start = time.perf_counter()
                results = call()["results"]
                samples[key].append(time.perf_counter() - start)
                samples[key + "_results"].append(len(results))
        out[label] = samples
    return out


def render_rate(client, mt_kb: str, repeat: int) -> list[float]:
    first = client.list_message_templates(knowledgeBaseId=mt_kb, maxResults=1)["messageTemplateSummaries"][0]
    samples = []
    for i in range(repeat + 10):
        start = time.perf_counter()
        client.render_message_template(
            knowledgeBaseId=mt_kb,
            messageTemplateId=first["messageTemplateId"],
            attributes={"customerProfileAttributes": {"firstName": "Ana <a>"}},
        )
        if i >= 10:
            samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=100, help="measured requests per class and operation")
    parser.add_argument("--database-url", help="a PostgreSQL database (default: SQLite in the data dir)")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="qc-bench-templates-"))
    database = args.database_url or str(Settings(data_dir=data_dir).database)
    storage = ["--database-url", args.database_url, "--allow-internal-endpoints"] if args.database_url else []
    limits = ["--max-message-templates", str(args.count), "--max-quick-responses", str(args.count)]
    server = ServerProcess(*storage, *limits, "--log-level", "error", data_dir=data_dir).start()
    client = server.client()
    mt_kb = client.create_knowledge_base(name="mt", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"]
    qr_kb = client.create_knowledge_base(name="qr", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    mt_kb, qr_kb = mt_kb["knowledgeBaseId"], qr_kb["knowledgeBaseId"]
    server.stop()
    loaded = load(database, data_dir, mt_kb, qr_kb, args.count)
    print(
        f"{args.count:,} templates and {args.count:,} quick responses ({'PostgreSQL' if args.database_url else 'SQLite'}):"
        f" prepared in {loaded['prepare_s']:.1f} s; bulk insert {loaded['templates_s']:.1f} s (templates),"
        f" {loaded['quick_responses_s']:.1f} s (quick responses)",
        flush=True,
    )
    server = ServerProcess(*storage, *limits, "--log-level", "error", data_dir=data_dir).start()
    try:
        client = server.client()
        results = measure(client, mt_kb, qr_kb, query_classes(random.Random(7)), args.repeat)
        render = render_rate(client, mt_kb, args.repeat * 2)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"maxResults 25, {args.repeat} calls per class and operation, alternating (boto3, one thread):")
    print(f"  {'query class':44} {'SearchMessageTemplates p50/p99':>32} {'SearchQuickResponses p50/p99':>30}  results")
    all_mt: list[float] = []
    all_qr: list[float] = []
    for label, s in results.items():
        mt50, mt99 = percentiles(s["mt"])
        qr50, qr99 = percentiles(s["qr"])
        all_mt += s["mt"]
        all_qr += s["qr"]
        found = f"{statistics.mean(s['mt_results']):.0f} / {statistics.mean(s['qr_results']):.0f}"
        print(f"  {label:44} {mt50:13.2f} / {mt99:7.2f} ms {qr50:15.2f} / {qr99:7.2f} ms  {found}")
    mt50, mt99 = percentiles(all_mt)
    qr50, qr99 = percentiles(all_qr)
    print(f"  {'all classes':44} {mt50:13.2f} / {mt99:7.2f} ms {qr50:15.2f} / {qr99:7.2f} ms")
    print(f"  ratio templates / quick responses: p50 x{mt50 / qr50:.2f}, p99 x{mt99 / qr99:.2f}")
    r50, r99 = percentiles(render)
    print(f"RenderMessageTemplate: {len(render) / sum(render):.0f} calls/s (p50 {r50:.2f} ms, p99 {r99:.2f} ms)")


if __name__ == "__main__":
    main()
