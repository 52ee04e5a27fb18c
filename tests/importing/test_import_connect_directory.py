"""`--connect-directory aws`: routing-profile names resolved through Amazon Connect's own
ListRoutingProfiles, called by boto3 in the server. Amazon Connect is stood in for by a small
HTTP server speaking that one operation's REST-JSON (paginated), reached through the standard
`AWS_ENDPOINT_URL_CONNECT` setting, so the server's real boto3 client, pagination and error
handling are what is tested."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from import_support import all_quick_responses, csv_bytes, import_file, report_rows
from support import ServerProcess

INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
MISSING_INSTANCE = "99999999-bbbb-cccc-dddd-eeeeeeeeeeee"
EXTERNAL = {"source": "AMAZON_CONNECT", "configuration": {"connectConfiguration": {"instanceId": INSTANCE}}}
ARN = "arn:aws:connect:us-east-1:000000000000:instance/" + INSTANCE + "/routing-profile/"
PROFILES = [{"Id": f"p{i}", "Arn": ARN + f"p{i}", "Name": name} for i, name in enumerate(["Support", "Sales", "VIP"])]


class FakeConnect(BaseHTTPRequestHandler):
    """ListRoutingProfiles, one profile a page (so the client must follow nextToken)."""

    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        FakeConnect.requests.append(url.path)
        instance = url.path.rsplit("/", 1)[-1]
        if not url.path.startswith("/routing-profiles-summary/") or instance != INSTANCE:
            self._send(404, {"Message": f"Instance {instance} not found"}, "ResourceNotFoundException")
            return
        page = int(parse_qs(url.query).get("nextToken", ["0"])[0])
        body: dict = {"RoutingProfileSummaryList": PROFILES[page : page + 1]}
        if page + 1 < len(PROFILES):
            body["NextToken"] = str(page + 1)
        self._send(200, body)

    def _send(self, status: int, body: dict, error: str | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        if error:
            self.send_header("x-amzn-ErrorType", error)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def aws_server(tmp_path_factory):
    connect = ThreadingHTTPServer(("127.0.0.1", 0), FakeConnect)
    threading.Thread(target=connect.serve_forever, daemon=True).start()
    env = {
        "AWS_ENDPOINT_URL_CONNECT": f"http://127.0.0.1:{connect.server_address[1]}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }
    server = ServerProcess("--connect-directory", "aws", data_dir=tmp_path_factory.mktemp("aws-dir"), env=env).start()
    yield server
    server.stop()
    connect.shutdown()


def test_names_are_resolved_through_list_routing_profiles(aws_server):
    client = aws_server.client()
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    FakeConnect.requests.clear()
    rows = [
        ["Name", "Content", "Routing Profile"],
        ["two", "x", "Support|VIP"],  # on the first and the last page
        ["unknown", "x", "support"],  # names are case-sensitive
        ["none", "x", ""],
    ]
    job = import_file(client, kb_id, csv_bytes(rows), externalSourceConfiguration=EXTERNAL)
    assert job["status"] == "FAILED"
    assert FakeConnect.requests == [f"/routing-profiles-summary/{INSTANCE}"] * 3  # three pages, once per job
    (error,) = [r[3] for r in report_rows(job)[1:]]
    assert "'support'" in error and INSTANCE in error
    assert set(all_quick_responses(client, kb_id)) == {"two", "none"}
    found = {q["name"]: q for q in client.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]}
    two = client.get_quick_response(knowledgeBaseId=kb_id, quickResponseId=found["two"]["quickResponseId"])
    assert two["quickResponse"]["groupingConfiguration"] == {
        "criteria": "RoutingProfileArn",
        "values": [ARN + "p0", ARN + "p2"],
    }


def test_a_connect_error_fails_the_rows_that_need_it_with_its_message(aws_server):
    client = aws_server.client()
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    missing = {"source": "AMAZON_CONNECT", "configuration": {"connectConfiguration": {"instanceId": MISSING_INSTANCE}}}
    rows = [["Name", "Content", "Routing Profile"], ["a", "x", "Support"], ["b", "x", ""]]
    job = import_file(client, kb_id, csv_bytes(rows), externalSourceConfiguration=missing)
    assert job["status"] == "FAILED"
    (error,) = [r[3] for r in report_rows(job)[1:]]
    assert "ListRoutingProfiles failed" in error and MISSING_INSTANCE in error and "ResourceNotFoundException" in error
    assert set(all_quick_responses(client, kb_id)) == {"b"}
