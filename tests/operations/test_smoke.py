def test_create_and_get(qconnect):
    kb = qconnect.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    got = qconnect.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"]
    assert got["knowledgeBaseArn"] == kb["knowledgeBaseArn"]
