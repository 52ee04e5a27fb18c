"""Retrieve and QueryAssistant without a language model (issue 17): a word search of the
assistant's associated knowledge bases, through each store's own indexes (content text:
storage/sql/content_search.py; quick responses: their search, search/plan.py). Deterministic:
the same data and query give the same results in the same order. docs/assistants.md,
"Retrieval", has the rules."""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from qconnect_local.errors import ResourceNotFoundException, ValidationException
from qconnect_local.operations import pagination
from qconnect_local.operations.assistants import label_id, load_assistant
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.sessions import load_session
from qconnect_local.protocol.model import service_model
from qconnect_local.search.excerpts import excerpt, highlights, query_words, relevance_level
from qconnect_local.search.plan import FilterPlan, QueryPlan, SearchPlan
from qconnect_local.storage.base import Record, Session

MAX_QUERY_WORDS = 32  # the words of a query searched (its first distinct ones)
MAX_RANKED = 1000  # QueryAssistant pages through at most this many best results
# A word in more items of a knowledge base than this is skipped there, unless every word of the
# query is (docs/assistants.md): it bounds what a query of very common words scores.
COMMON_WORD_ITEMS = 1000
# A word in more items of a knowledge base than this only adds to scores (docs/assistants.md):
# it bounds the candidates scored when a query has very common words.
COMMON_WORD_ITEMS = 1000
RETRIEVE_DEFAULT_RESULTS = 5
RETRIEVE_MAX_RESULTS = 100
# Title words weigh twice text words, for content (content_search.py) and quick responses alike.
_TITLE_WEIGHT, _TEXT_WEIGHT = 2, 1
_ACTIVE = FilterPlan("isActive", "is_active", "bool", "EQUALS", (True,), False)
_RESULT_NAMESPACE = uuid.UUID("6f1c3a52-4a0e-4e43-9d55-2b1c9e0d7a11")


@dataclass(frozen=True)
class Source:
    """A knowledge base searched, through the association that links it to the assistant."""

    association_id: str
    kb: Record


@dataclass
class Hit:
    score: int
    title: str
    item_id: str
    source: Source
    record: Record | None = None  # a quick response's record (content is read for the page)
    text: str = ""

    def order(self) -> tuple[int, str, str]:
        return (-self.score, self.title, self.item_id)


# -- sources and ranking ---------------------------------------------------------------------


def _source(session: Session, ctx: RequestContext, association: Record) -> Source | None:
    if association.get("associationType") != "KNOWLEDGE_BASE":
        return None
    kb_id = association["associationData"]["knowledgeBaseAssociation"]["knowledgeBaseId"]
    kb = session.get_knowledge_base(ctx.account_id, ctx.region, kb_id)
    return Source(association["assistantAssociationId"], kb) if kb is not None else None


def assistant_sources(session: Session, ctx: RequestContext, assistant_id: str) -> list[Source]:
    """The knowledge bases of the assistant's KNOWLEDGE_BASE associations, in creation order."""
    sources: list[Source] = []
    after = 0
    while True:
        rows = session.list_assistant_associations(ctx.account_id, ctx.region, assistant_id, after, 100)
        sources.extend(s for _, a in rows if (s := _source(session, ctx, a)) is not None)
        if len(rows) < 100:
            return sources
        after = rows[-1][0]


def _quick_response_plan(words: list[str], limit: int) -> SearchPlan:
    """One query a word on the name and one on the content: a quick response scores the sum of
    the weights of the queries it matches (doubled for a whole-field match, search/plan.py)."""
    queries = [QueryPlan("name", "name", ((w,),), False, False, _TITLE_WEIGHT) for w in words]
    queries += [QueryPlan("content", "content", ((w,),), False, False, _TEXT_WEIGHT) for w in words]
    return SearchPlan(tuple(queries), (_ACTIVE,), None, limit, None)


def searched_words(session: Session, ctx: RequestContext, kb: Record, words: list[str]) -> list[str]:
    """The words searched in this knowledge base: its common words left out, unless all are."""
    quick = kb["knowledgeBaseType"] == "QUICK_RESPONSES"
    common = set(
        session.common_words(ctx.account_id, ctx.region, kb["knowledgeBaseId"], quick, words, COMMON_WORD_ITEMS)
    )
    return [w for w in words if w not in common] or words


def _source_hits(session: Session, ctx: RequestContext, source: Source, words: list[str], want: int) -> list[Hit]:
    kb = source.kb
    if kb["knowledgeBaseType"] not in ("CUSTOM", "QUICK_RESPONSES"):
        return []  # other knowledge base types hold nothing of their own to search
    words = searched_words(session, ctx, kb, words)
    if kb["knowledgeBaseType"] == "CUSTOM":
        found = session.search_content_text(ctx.account_id, ctx.region, kb["knowledgeBaseId"], words, want)
        return [Hit(score, title, content_id, source) for score, title, content_id in found]
    plan = _quick_response_plan(words, want)
    found_qr = session.search_quick_responses(ctx.account_id, ctx.region, kb["knowledgeBaseId"], plan)
    return [
        Hit(key.score, record["name"], record["quickResponseId"], source, record) for key, record in found_qr[:want]
    ]


def rank(session: Session, ctx: RequestContext, sources: list[Source], words: list[str], want: int) -> list[Hit]:
    """The `want` best hits of all sources: score descending, then title, then id."""
    if not words:
        return []
    hits = [hit for source in sources for hit in _source_hits(session, ctx, source, words, want)]
    hits.sort(key=Hit.order)
    return hits[:want]


def read_texts(session: Session, ctx: RequestContext, hits: list[Hit]) -> list[Hit]:
    """The hits with their records and texts (content read now, for the page only)."""
    content_ids = [h.item_id for h in hits if h.record is None]
    contents = session.contents_with_text(ctx.account_id, ctx.region, content_ids)
    out = []
    for hit in hits:
        if hit.record is not None:
            hit.text = hit.record["contents"]["plainText"]["content"]
        elif hit.item_id in contents:
            hit.record, hit.text = contents[hit.item_id]
        else:
            continue  # deleted since it was ranked (PostgreSQL reads are not one snapshot)
        out.append(hit)
    return out


# -- result shapes ---------------------------------------------------------------------------


def _document_text(text: str, marks: list[tuple[int, int]]) -> Record:
    return {"text": text, "highlights": [{"beginOffsetInclusive": b, "endOffsetExclusive": e} for b, e in marks]}


def content_reference(hit: Hit) -> Record:
    record = hit.record or {}
    quick = "quickResponseId" in record
    ref: Record = {
        "knowledgeBaseArn": hit.source.kb["knowledgeBaseArn"],
        "knowledgeBaseId": hit.source.kb["knowledgeBaseId"],
        "contentArn": record["quickResponseArn"] if quick else record["contentArn"],
        "contentId": hit.item_id,
        "referenceType": "KNOWLEDGE_BASE",
    }
    if record.get("linkOutUri"):
        ref["sourceURL"] = record["linkOutUri"]
    return ref


def result_data(hit: Hit, words: list[str]) -> Record:
    wanted = set(words)
    title = _document_text(hit.title, highlights(hit.title, wanted))
    passage = _document_text(*excerpt(hit.text, wanted))
    reference = content_reference(hit)
    ranking = {"relevanceScore": float(hit.score), "relevanceLevel": relevance_level(words, hit.title, hit.text)}
    return {
        "resultId": str(uuid.uuid5(_RESULT_NAMESPACE, reference["contentArn"])),
        "document": {"contentReference": reference, "title": title, "excerpt": passage},
        "relevanceScore": float(hit.score),
        "data": {
            "reference": {"contentReference": reference},
            "details": {"contentData": {"textData": {"title": title, "excerpt": passage}, "rankingData": ranking}},
        },
        "type": "KNOWLEDGE_CONTENT",
    }


def retrieve_result(hit: Hit, words: list[str]) -> Record:
    return {
        "associationId": hit.source.association_id,
        "sourceId": hit.item_id,
        "referenceType": "KNOWLEDGE_BASE",
        "contentText": excerpt(hit.text, set(words))[0],
    }


# -- Retrieve ---------------------------------------------------------------------------------


def _retrieve_source(session: Session, ctx: RequestContext, assistant_id: str, config: Record) -> Source:
    labels = (config.get("knowledgeSource") or {}).get("assistantAssociationIds")
    if not labels:
        raise ValidationException("retrievalConfiguration.knowledgeSource.assistantAssociationIds is required")
    association_id = label_id(ctx, labels[0], "association", "Assistant association", (assistant_id,))
    association = session.get_assistant_association(ctx.account_id, ctx.region, assistant_id, association_id)
    if association is None:
        raise ResourceNotFoundException("Assistant association not found", resource_name=association_id)
    source = _source(session, ctx, association)
    if source is None:
        raise ValidationException(
            f"Assistant association {association_id} is of type {association.get('associationType')}: "
            "only KNOWLEDGE_BASE associations can be searched"
        )
    return source


def _retrieve_count(config: Record) -> int:
    count = config.get("numberOfResults", RETRIEVE_DEFAULT_RESULTS)
    if not 1 <= count <= RETRIEVE_MAX_RESULTS:
        raise ValidationException(
            f"retrievalConfiguration.numberOfResults must be between 1 and {RETRIEVE_MAX_RESULTS}, not {count}"
        )
    return int(count)


def retrieve(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    config = params["retrievalConfiguration"]
    if "filter" in config:
        raise ValidationException(
            "retrievalConfiguration.filter is not supported: qconnect-local searches the words of the query only"
        )
    count = _retrieve_count(config)
    words = query_words(params["retrievalQuery"], MAX_QUERY_WORDS)
    with ctx.store.read() as session:
        assistant_id = load_assistant(session, ctx, params["assistantId"])["assistantId"]
        source = _retrieve_source(session, ctx, assistant_id, config)
        hits = read_texts(session, ctx, rank(session, ctx, [source], words, count))
    return {"results": [retrieve_result(hit, words) for hit in hits]}


# -- QueryAssistant ---------------------------------------------------------------------------


def _query_text(params: dict[str, Any]) -> str:
    data = params.get("queryInputData")
    if data is not None and "queryText" in params:
        raise ValidationException("Give either queryText or queryInputData, not both")
    if data is None:
        if "queryText" not in params:
            raise ValidationException("queryText or queryInputData.queryTextInputData is required")
        return str(params["queryText"])
    if "queryTextInputData" not in data:
        member = next(iter(data), "queryInputData")
        raise ValidationException(
            f"queryInputData.{member} is not supported: it needs a language model (only queryTextInputData is)"
        )
    return str(data["queryTextInputData"]["text"])


@functools.cache
def _result_types() -> frozenset[str]:
    """QueryResultType's values in the model; only KNOWLEDGE_CONTENT results exist here."""
    return frozenset(service_model().shape_for("QueryResultType").enum)


def _wanted_type(params: dict[str, Any]) -> str | None:
    """The RESULT_TYPE the queryCondition asks for (None: any)."""
    conditions = params.get("queryCondition") or []
    if not conditions:
        return None
    single = conditions[0].get("single")
    if single is None:
        raise ValidationException("queryCondition[0].single is required")
    if single["value"] not in _result_types():
        raise ValidationException(
            f"queryCondition value '{single['value']}' is not a result type; valid values: "
            + ", ".join(sorted(_result_types()))
        )
    return str(single["value"])


def _offset(ctx: RequestContext, listing: str, params: dict[str, Any]) -> int:
    offset = pagination.decode_token(listing, params.get("nextToken"), ctx.settings.secret_key()) or 0
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < MAX_RANKED:
        raise ValidationException("Invalid pagination token")
    return offset


def query_assistant(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    text = _query_text(params)
    wanted_type = _wanted_type(params)
    limit = pagination.page_size(params)
    with ctx.store.read() as session:
        assistant_id = load_assistant(session, ctx, params["assistantId"])["assistantId"]
        if "sessionId" in params:
            load_session(session, ctx, params)
        # The token is bound to the assistant, the query and the condition.
        digest = hashlib.sha256(f"{text}\0{wanted_type}".encode()).hexdigest()[:32]
        listing = f"QueryAssistant/{assistant_id}/{digest}"
        offset = _offset(ctx, listing, params)
        if wanted_type not in (None, "KNOWLEDGE_CONTENT"):
            return {"results": []}  # generative and intent results need a language model
        words = query_words(text, MAX_QUERY_WORDS)
        want = min(offset + limit + 1, MAX_RANKED)
        ranked = rank(session, ctx, assistant_sources(session, ctx, assistant_id), words, want)
        page = read_texts(session, ctx, ranked[offset : offset + limit])
    out: dict[str, Any] = {"results": [result_data(hit, words) for hit in page]}
    if len(ranked) > offset + limit:
        out["nextToken"] = pagination.encode_token(listing, offset + limit, ctx.settings.secret_key())
    return out


OPERATIONS = {"Retrieve": retrieve, "QueryAssistant": query_assistant}
