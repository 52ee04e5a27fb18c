"""QueryAssistant and Retrieve at scale, in process (the operation functions, no HTTP): an
assistant with CUSTOM knowledge bases of N contents in all (about 250 words of text each) and a
QUICK_RESPONSES knowledge base of N quick responses, written straight through the storage layer.
Each query class is run `--repeat` times after a warm-up, with the common-word rule (words in more
than COMMON_WORD_ITEMS items of a knowledge base are skipped there) and without it ("all words":
every word searched, as before the rule); the baseline, in the same run, is SearchQuickResponses
(CONTAINS on content, maxResults 10) of the same words on the quick-response knowledge base alone.

    python bench/retrieval.py                        # 20,000 contents + 20,000 quick responses, SQLite
    python bench/retrieval.py --count 5000
    python bench/retrieval.py --database-url postgresql://postgres@127.0.0.1:5432/qc_bench
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qconnect_local import ids  # noqa: E402
from qconnect_local.config import Settings  # noqa: E402
from qconnect_local.operations import retrieval  # noqa: E402
from qconnect_local.operations.context import RequestContext  # noqa: E402
from qconnect_local.operations.quick_responses import prepare_quick_response, search_quick_responses  # noqa: E402
from qconnect_local.operations.retrieval import query_assistant, retrieve  # noqa: E402
from qconnect_local.storage import open_store  # noqa: E402

ACCOUNT, REGION = "000000000000", "us-east-1"
VOCABULARY = 20_000
PER_KB = 5_000  # the service's content quota per knowledge base


def words(rng: random.Random, cumulative: list[float], n: int) -> str:
    return " ".join(f"w{i}" for i in rng.choices(range(VOCABULARY), cum_weights=cumulative, k=n))


def new_kb(session: Any, kb_type: str) -> dict[str, Any]:
    kb_id = ids.new_id()
    kb = {
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": ids.knowledge_base_arn(REGION, ACCOUNT, kb_id),
        "name": kb_id,
        "knowledgeBaseType": kb_type,
        "status": "ACTIVE",
        "tags": {},
    }
    session.insert_knowledge_base(ACCOUNT, REGION, kb)
    return kb


def associate(session: Any, assistant: dict[str, Any], kb: dict[str, Any]) -> dict[str, Any]:
    association_id = ids.new_id()
    association = {
        "assistantAssociationId": association_id,
        "assistantId": assistant["assistantId"],
        "associationType": "KNOWLEDGE_BASE",
        "associationData": {
            "knowledgeBaseAssociation": {
                "knowledgeBaseId": kb["knowledgeBaseId"],
                "knowledgeBaseArn": kb["knowledgeBaseArn"],
            }
        },
    }
    session.insert_assistant_association(ACCOUNT, REGION, association, kb["knowledgeBaseId"])
    return association


def load(ctx: RequestContext, count: int) -> tuple[str, str, str]:
    """(assistant id, an association id of a CUSTOM knowledge base, the quick-response kb id)."""
    rng = random.Random(7)
    weights = [1 / (r + 1) ** 1.07 for r in range(VOCABULARY)]
    cumulative = list(itertools.accumulate(weights))
    store = ctx.store
    with store.write() as session:
        assistant_id = ids.new_id()
        assistant = {
            "assistantId": assistant_id,
            "assistantArn": f"arn:aws:wisdom:{REGION}:{ACCOUNT}:assistant/{assistant_id}",
        }
        session.insert_assistant(ACCOUNT, REGION, {**assistant, "name": "bench", "type": "AGENT", "status": "ACTIVE"})
        qr_kb = new_kb(session, "QUICK_RESPONSES")
        associate(session, assistant, qr_kb)
        custom_association = None
        for start in range(0, count, PER_KB):
            kb = new_kb(session, "CUSTOM")
            association_id = associate(session, assistant, kb)["assistantAssociationId"]
            custom_association = custom_association or association_id
            for i in range(start, min(start + PER_KB, count)):
                content_id = ids.new_id()
                record = {
                    "contentId": content_id,
                    "contentArn": f"arn:aws:wisdom:{REGION}:{ACCOUNT}:content/{kb['knowledgeBaseId']}/{content_id}",
                    "knowledgeBaseId": kb["knowledgeBaseId"],
                    "knowledgeBaseArn": kb["knowledgeBaseArn"],
                    "name": f"doc{i}",
                    "title": words(rng, cumulative, 5),
                    "status": "ACTIVE",
                }
                session.insert_content(ACCOUNT, REGION, record, words(rng, cumulative, 250))
        records = [
            prepare_quick_response(ctx, qr_kb, {"name": f"qr{i}", "content": {"content": words(rng, cumulative, 30)}})
            for i in range(count)
        ]
        session.insert_quick_responses_bulk(ACCOUNT, REGION, qr_kb["knowledgeBaseId"], records)
    assert custom_association is not None
    return assistant_id, custom_association, qr_kb["knowledgeBaseId"]


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    for _ in range(3):
        call()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = (
            Settings(data_dir=Path(tmp), database_url=args.database_url)
            if args.database_url
            else Settings(data_dir=Path(tmp))
        )
        settings.prepare()
        store = open_store(settings.database)
        ctx = RequestContext(ACCOUNT, REGION, f"arn:aws:iam::{ACCOUNT}:root", store, settings)
        t = time.perf_counter()
        assistant_id, association_id, qr_kb = load(ctx, args.count)
        print(
            f"store {store.kind}: loaded {args.count} contents + {args.count} quick responses in {time.perf_counter() - t:.1f} s"
        )
        queries = {
            "1 rare word": "w15000",
            "3 mid words": "w300 w1200 w4000",
            "8-word question": "w1 w2 w5 w40 w300 w900 w2000 w7000",
            "3 common words": "w1 w2 w5",
        }
        print(
            f"{'query':<18} {'rule':<10} {'QueryAssistant p50/p99 ms':>27} {'Retrieve p50/p99 ms':>21}"
            f" {'SearchQR (baseline)':>21} {'ratio p50':>10}"
        )
        rule = retrieval.searched_words
        for label, text in queries.items():
            base = timed(
                lambda text=text: search_quick_responses(
                    ctx,
                    {
                        "knowledgeBaseId": qr_kb,
                        "maxResults": 10,
                        "searchExpression": {
                            "queries": [{"name": "content", "values": [text], "operator": "CONTAINS"}]
                        },
                    },
                ),
                args.repeat,
            )
            for mode, words_of in (("common", rule), ("all words", lambda session, ctx, kb, words: words)):
                retrieval.searched_words = words_of  # type: ignore[assignment]
                qa = timed(
                    lambda text=text: query_assistant(
                        ctx, {"assistantId": assistant_id, "queryText": text, "maxResults": 10}
                    ),
                    args.repeat,
                )
                rt = timed(
                    lambda text=text: retrieve(
                        ctx,
                        {
                            "assistantId": assistant_id,
                            "retrievalQuery": text,
                            "retrievalConfiguration": {
                                "knowledgeSource": {"assistantAssociationIds": [association_id]}
                            },
                        },
                    ),
                    args.repeat,
                )
                print(
                    f"{label:<18} {mode:<10} {qa[0]:>12.1f} / {qa[1]:<12.1f} {rt[0]:>8.1f} / {rt[1]:<10.1f}"
                    f" {base[0]:>8.1f} / {base[1]:<10.1f} {qa[0] / base[0]:>8.1f}x",
                    flush=True,
                )
            retrieval.searched_words = rule
        store.close()


if __name__ == "__main__":
    main()
