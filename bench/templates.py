"""SearchMessageTemplates beside SearchQuickResponses (same run, same client, same number of
records), and RenderMessageTemplate calls/s, through boto3 against a `qconnect-local serve`
process.

    flock /tmp/qc-bench.lock python bench/templates.py                 # 200 (the default quota)
    flock /tmp/qc-bench.lock python bench/templates.py --count 2000    # a larger quota

Records are created through the API (CreateMessageTemplate, CreateQuickResponse) with names and
descriptions from a small vocabulary; each search is a name query plus a filter, maxResults 25.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from support import ServerProcess  # noqa: E402

WORDS = "welcome refund order delivery password reset invoice payment account update notice reminder".split()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


def timed(call, repeat: int) -> list[float]:
    for _ in range(10):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(18)
    server = ServerProcess(
        "--max-message-templates", str(args.count), "--max-quick-responses", str(args.count), "--log-level", "error"
    ).start()
    try:
        client = server.client()
        mt_kb = client.create_knowledge_base(name="mt", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        qr_kb = client.create_knowledge_base(name="qr", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        first = None
        for i in range(args.count):
            name = f"{' '.join(rng.sample(WORDS, 2))} {i}"
            description = " ".join(rng.sample(WORDS, 4))
            subtype = "SMS" if i % 2 else "EMAIL"
            content = (
                {"sms": {"body": {"plainText": {"content": f"Hi {{{{Attributes.Customer.FirstName}}}} {description}"}}}}
                if subtype == "SMS"
                else {
                    "email": {
                        "subject": f"About {name}",
                        "body": {
                            "html": {"content": f"<p>Dear {{{{Attributes.Customer.FirstName}}}}, {description}</p>"}
                        },
                    }
                }
            )
            mt = client.create_message_template(
                knowledgeBaseId=mt_kb, name=name, description=description, channelSubtype=subtype, content=content
            )["messageTemplate"]
            first = first or mt["messageTemplateId"]
            client.create_quick_response(
                knowledgeBaseId=qr_kb,
                name=name,
                description=description,
                content={"content": description},
                channels=["Email" if subtype == "EMAIL" else "Chat"],
            )
        mt_search = timed(
            lambda: client.search_message_templates(
                knowledgeBaseId=mt_kb,
                maxResults=25,
                searchExpression={
                    "queries": [{"name": "name", "values": ["welcome"], "operator": "CONTAINS"}],
                    "filters": [{"name": "channelSubtype", "values": ["EMAIL"], "operator": "EQUALS"}],
                },
            ),
            args.repeat,
        )
        qr_search = timed(
            lambda: client.search_quick_responses(
                knowledgeBaseId=qr_kb,
                maxResults=25,
                searchExpression={
                    "queries": [{"name": "name", "values": ["welcome"], "operator": "CONTAINS"}],
                    "filters": [{"name": "channels", "values": ["Email"], "operator": "EQUALS"}],
                },
            ),
            args.repeat,
        )
        render = timed(
            lambda: client.render_message_template(
                knowledgeBaseId=mt_kb,
                messageTemplateId=first,
                attributes={"customerProfileAttributes": {"firstName": "Ana <a>"}},
            ),
            args.repeat,
        )
    finally:
        server.stop()
    print(f"records per knowledge base: {args.count}, {args.repeat} calls each (boto3, one thread)")
    for label, samples in (
        ("SearchMessageTemplates", mt_search),
        ("SearchQuickResponses", qr_search),
        ("RenderMessageTemplate", render),
    ):
        p50, p99 = percentiles(samples)
        print(f"{label:24} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  {len(samples) / sum(samples):7.0f} calls/s")


if __name__ == "__main__":
    main()
