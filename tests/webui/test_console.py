"""The web console in a real browser (headless Chromium through Playwright): each flow asserts
what the page shows and what the API then returns through boto3. Screenshots of every page go to
`<pytest basetemp>/console-screenshots/`. The servers are real `qconnect-local serve` processes,
so with QCONNECT_TEST_DATABASE_URL set the flows run on PostgreSQL."""

from __future__ import annotations

import http.client
import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from console_support import Shots, browser_or_skip, open_console
from import_support import csv_bytes, import_file, start, upload
from import_support import http as http_call
from qconnect_local import __version__
from support import EXPECTED_STORAGE, ServerProcess, make_client

HEADER = [
    "Name",
    "Content",
    "Shortcut key",
    "Description",
    "Routing Profile",
    "Channels",
    "Content type",
    "Language",
    "Active",
]


@pytest.fixture(scope="module")
def browser() -> Any:
    yield from browser_or_skip()


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    proc = ServerProcess(data_dir=tmp_path_factory.mktemp("console-data")).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def manual_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    proc = ServerProcess("--import-mode", "manual", data_dir=tmp_path_factory.mktemp("console-manual")).start()
    yield proc
    proc.stop()


@pytest.fixture
def url(console_server: ServerProcess) -> str:
    console_server.reset()
    return console_server.endpoint_url


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Shots:
    folder = tmp_path_factory.getbasetemp() / "console-screenshots"
    folder.mkdir(exist_ok=True)
    return Shots(folder, request.node.name)


@pytest.fixture
def page(browser: Any, url: str) -> Any:
    page = open_console(browser, url)
    yield page
    assert page.console_errors == []
    page.context.close()


def qc(url: str, region: str = "us-east-1", account: str = "testing") -> Any:
    return make_client(url, region=region, access_key=account)


def new_kb(client: Any, name: str = "support") -> str:
    return client.create_knowledge_base(name=name, knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]


# -- HTTP behaviour of the console's routes (no browser) -------------------------------------


def no_redirect(url: str, path: str, accept: str) -> tuple[int, str | None]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Accept": accept})
        response = conn.getresponse()
        return response.status, response.getheader("location")
    finally:
        conn.close()


def test_root_redirects_browsers_and_keeps_the_api_answer_for_sdks(url: str) -> None:
    assert no_redirect(url, "/", "text/html,application/xhtml+xml") == (302, "/_qconnect/ui/")
    assert no_redirect(url, "/_qconnect/ui", "text/html") == (301, "/_qconnect/ui/")
    status, headers, body = http_call("GET", url + "/", headers={"Accept": "application/json"})
    assert status == 404 and json.loads(body)["message"].startswith("No operation")
    status, headers, body = http_call("GET", url + "/_qconnect/ui/")
    assert status == 200 and headers["content-type"].startswith("text/html") and b"js/app.js" in body
    status, headers, _ = http_call("GET", url + "/_qconnect/ui/js/app.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    for bad in ("/_qconnect/ui/../server.py", "/_qconnect/ui/js/../../__init__.py", "/_qconnect/ui/nope.js"):
        assert http_call("GET", url + bad)[0] == 404


def test_no_console_flag_turns_it_off() -> None:
    proc = ServerProcess("--no-console").start()
    try:
        assert http_call("GET", proc.endpoint_url + "/_qconnect/ui/")[0] == 404
        assert http_call("GET", proc.endpoint_url + "/", headers={"Accept": "text/html"})[0] == 404
        assert http_call("POST", proc.endpoint_url + "/_qconnect/validate", b"Name,Content\nA,B\n")[0] == 404
    finally:
        proc.stop()


def test_validate_endpoint_runs_the_offline_checker(url: str) -> None:
    body = csv_bytes(
        [HEADER, ["Good", "Hi", "", "", "", "Chat", "plain", "en_US", "true"], ["Bad", "", "", "", "", "", "", "", ""]]
    )
    status, _, raw = http_call("POST", url + "/_qconnect/validate", body)
    doc = json.loads(raw)
    assert status == 200 and (doc["rows"], doc["valid"], doc["failed"]) == (2, 1, 1)
    assert doc["errors"][0]["line"] == 3 and doc["errors"][0]["column"] == "Content"
    assert doc["report"]["rows"][0][0] == "Bad" and "Error" in doc["report"]["header"][-1]
    status, _, raw = http_call("POST", url + "/_qconnect/validate", b"\xff\xfe not utf-8")
    assert status == 200 and json.loads(raw)["fileProblem"]
    status, _, raw = http_call("POST", url + "/_qconnect/validate", b"Name,Content\n" + b"x" * (6 << 20))
    assert status == 413 and "upload limit" in json.loads(raw)["message"]
    status, headers, raw = http_call("GET", url + "/_qconnect/console/template.csv")
    assert status == 200 and raw.startswith(b"Name,Content") and "attachment" in headers["content-disposition"]


# -- flows in the browser ---------------------------------------------------------------------


def test_create_and_delete_a_knowledge_base(page: Any, url: str, shots: Shots) -> None:
    page.fill("input[name=name]", "Billing answers")
    page.fill("input[name=tags]", "team=billing")
    page.click("text=Create knowledge base")
    row = page.locator("tr", has_text="Billing answers")
    row.wait_for()
    assert "0 / 1000" in row.inner_text() and "team=billing" in row.inner_text()
    shots(page, "knowledge-bases")
    status = page.inner_text("#server-status")
    assert f"v{__version__}" in status and "imports: 0 waiting, 0 running" in status
    assert page.get_attribute("#server-status", "data-storage") == EXPECTED_STORAGE
    kbs = qc(url).list_knowledge_bases()["knowledgeBaseSummaries"]
    assert [(k["name"], k["knowledgeBaseType"], k.get("tags")) for k in kbs] == [
        ("Billing answers", "QUICK_RESPONSES", {"team": "billing"})
    ]
    assert kbs[0]["knowledgeBaseId"] in row.inner_text()
    row.get_by_role("button", name="Delete Billing answers").click()
    page.click("#confirm-ok")
    page.locator("text=No knowledge base in this account and region yet.").wait_for()
    assert qc(url).list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_reset_everything_asks_first(page: Any, url: str) -> None:
    new_kb(qc(url), "one")
    new_kb(qc(url, region="eu-west-2"), "two")
    page.reload()
    page.locator("tr", has_text="one").wait_for()
    page.click("text=Reset everything…")
    page.click("dialog button[value=cancel]")
    assert len(qc(url).list_knowledge_bases()["knowledgeBaseSummaries"]) == 1
    page.click("text=Reset everything…")
    page.click("#confirm-ok")
    page.locator("text=No knowledge base in this account and region yet.").wait_for()
    assert qc(url, region="eu-west-2").list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_add_edit_search_and_delete_a_quick_response(page: Any, url: str, shots: Shots) -> None:
    client = qc(url)
    kb = new_kb(client)
    for name, text, key in [
        ("Refund policy", "Refunds are issued within 5 days.", "refund"),
        ("Return label", "We email a return label.", "label"),
        ("Greeting", "Hello {{Attributes.Customer}}!", "hi"),
    ]:
        client.create_quick_response(knowledgeBaseId=kb, name=name, content={"content": text}, shortcutKey=key)

    # Add
    page.goto(f"{url}/_qconnect/ui/#/kb/{kb}/qr/new")
    page.fill("#qr-name", "Shipping times")
    page.select_option("#qr-contentType", "application/x.quickresponse;format=markdown")
    page.fill("#qr-content", "**Orders** ship in *2 days*, {{Attributes.Customer}}.")
    page.fill("#qr-shortcutKey", "ship")
    page.check("#qr-email")
    page.fill("#qr-tags", "topic=shipping")
    assert page.inner_html("#qr-markdown-preview").startswith("<p><strong>Orders</strong>")
    page.fill("[data-attribute=Customer]", "Ana")
    assert "Ana" in page.inner_text("#qr-interpolated")
    shots(page, "quick-response-new")
    page.click("#qr-save")
    page.wait_for_url("**/qr/*-*")
    qr_id = page.url.rsplit("/", 1)[1]
    saved = client.get_quick_response(knowledgeBaseId=kb, quickResponseId=qr_id)["quickResponse"]
    assert (saved["name"], saved["shortcutKey"], saved["channels"], saved["tags"]) == (
        "Shipping times",
        "ship",
        ["Chat", "Email"],
        {"topic": "shipping"},
    )
    # The plain text the API derived from the markdown is what the page shows.
    page.locator("#qr-plain-text pre").wait_for()
    assert page.inner_text("#qr-plain-text pre") == saved["contents"]["plainText"]["content"]
    page.fill("[data-attribute=Customer]", "Ana")
    page.click("text=Interpolate through the API (SearchQuickResponses)")
    page.locator("#qr-api-interpolated", has_text="Ana").wait_for()

    # Edit: the API's ValidationException beside the shortcut key, ConflictException beside the name.
    page.fill("#qr-shortcutKey", "much-too-long")
    page.click("#qr-save")
    page.locator("#err-shortcutKey", has_text="ValidationException").wait_for()
    assert page.get_attribute("#qr-shortcutKey", "aria-invalid") == "true"
    shots(page, "quick-response-validation-error")
    assert (
        client.get_quick_response(knowledgeBaseId=kb, quickResponseId=qr_id)["quickResponse"]["shortcutKey"] == "ship"
    )
    page.fill("#qr-shortcutKey", "")
    page.fill("#qr-name", "Refund policy")
    page.click("#qr-save")
    page.locator("#err-name", has_text="ConflictException").wait_for()
    page.fill("#qr-name", "Shipping times (EU)")
    page.fill("#qr-tags", "topic=shipping-eu")
    page.click("#qr-save")
    page.locator("h1", has_text="Shipping times (EU)").wait_for()
    saved = client.get_quick_response(knowledgeBaseId=kb, quickResponseId=qr_id)["quickResponse"]
    assert (
        saved["name"] == "Shipping times (EU)"
        and "shortcutKey" not in saved
        and saved["tags"] == {"topic": "shipping-eu"}
    )

    # Search as you type: the results follow the text, and are the API's own.
    page.goto(f"{url}/_qconnect/ui/#/kb/{kb}")
    page.locator("#qr-results tr", has_text="Greeting").wait_for()
    page.fill("#qr-search", "re")
    page.locator("#qr-info", has_text="SearchQuickResponses").wait_for()
    page.type("#qr-search", "fu", delay=30)
    page.wait_for_function("() => window.__qcLastDraw && window.__qcLastDraw.text === 'refu'")
    names = page.locator("#qr-results tbody tr td:first-child").all_inner_texts()
    api = client.search_quick_responses(
        knowledgeBaseId=kb,
        maxResults=25,
        searchExpression={"queries": [{"name": "content", "operator": "CONTAINS_AND_PREFIX", "values": ["refu"]}]},
    )["results"]
    assert names == [r["name"] for r in api] == ["Refund policy"]
    assert page.locator("#qr-results mark").first.inner_text().lower() == "refu"
    page.check("#qr-typeahead")
    page.fill("#qr-search", "label")
    page.wait_for_function("() => window.__qcLastDraw && window.__qcLastDraw.text === 'label'")
    row = page.locator("#qr-results tbody tr", has_text="Return label")
    assert "shortcutKey" in row.inner_text() and "name" in row.inner_text()
    shots(page, "quick-responses-search")

    # Delete from the list.
    page.fill("#qr-search", "")
    page.locator("#qr-info", has_text="ListQuickResponses").wait_for()
    shots(page, "quick-responses-list")
    page.get_by_role("button", name="Delete Shipping times (EU)").click()
    page.click("#confirm-ok")
    page.locator("#qr-results tr", has_text="Shipping times").wait_for(state="detached")
    with pytest.raises(ClientError) as err:
        client.get_quick_response(knowledgeBaseId=kb, quickResponseId=qr_id)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_quick_response_list_pages_with_next_token_and_filters(page: Any, url: str) -> None:
    client = qc(url)
    kb = new_kb(client)
    for i in range(30):
        client.create_quick_response(
            knowledgeBaseId=kb, name=f"qr {i:02}", content={"content": "x"}, isActive=i % 3 != 0, channels=["Chat"]
        )
    page.goto(f"{url}/_qconnect/ui/#/kb/{kb}")
    page.locator("#qr-info", has_text="25 shown").wait_for()
    page.click("#qr-next")
    page.locator("#qr-info", has_text="5 shown (page 2)").wait_for()
    page.select_option("#f-active", "false")
    page.locator("#qr-info", has_text="10 shown (page 1)").wait_for()
    shown = sorted(page.locator("#qr-results tbody tr td:first-child").all_inner_texts())
    assert shown == sorted(f"qr {i:02}" for i in range(30) if i % 3 == 0)


def test_import_a_csv_with_good_and_bad_rows(page: Any, url: str, shots: Shots, tmp_path: Path) -> None:
    client = qc(url)
    kb = new_kb(client)
    body = csv_bytes(
        [
            HEADER,
            ["Welcome", "Welcome aboard!", "welcome", "", "", "Chat", "plain", "en_US", "true"],
            ["No content", "", "", "", "", "Chat", "plain", "en_US", "true"],
            ["Bye", "Goodbye", "bye", "", "", "Email", "plain", "en_US", "true"],
            ["Welcome", "Duplicate name", "", "", "", "Chat", "plain", "en_US", "true"],
        ]
    )
    page.goto(f"{url}/_qconnect/ui/#/kb/{kb}/import")
    page.set_input_files("#import-file", files=[{"name": "mixed.csv", "mimeType": "text/csv", "buffer": body}])
    page.locator("#import-summary", has_text="4 rows").wait_for()
    assert "2 valid" in page.inner_text("#import-summary") and "2 failed" in page.inner_text("#import-summary")
    failed = page.locator("#import-check tbody tr").all_inner_texts()
    assert len(failed) == 2 and failed[0].startswith("No content") and "Duplicate name" in failed[1]
    shots(page, "import-checked")
    page.click("#import-start")
    page.locator("#import-job-status", has_text="FAILED").wait_for()
    shots(page, "import-done")
    names = sorted(s["name"] for s in client.list_quick_responses(knowledgeBaseId=kb)["quickResponseSummaries"])
    assert names == ["Bye", "Welcome"]
    (job,) = client.list_import_jobs(knowledgeBaseId=kb)["importJobSummaries"]
    assert job["status"] == "FAILED" and job["metadata"]["file"] == "mixed.csv"

    # The history shows the failed-record report as a table, and it can be downloaded.
    page.click("#import-history-link")
    page.locator(f"tr[data-job='{job['importJobId']}'] >> text=Details").click()
    page.locator("#job-counts", has_text="rows in the file: 4 · imported: 2 · failed: 2").wait_for()
    report = page.locator("#job-detail tbody tr").all_inner_texts()
    assert [r.split("\t")[0] for r in report] == ["No content", "Welcome"]
    with page.expect_download() as download:
        page.click("#job-report-download")
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    assert b"No content" in saved.read_bytes()
    shots(page, "import-history")

    # Template download and export of the knowledge base.
    page.goto(f"{url}/_qconnect/ui/#/kb/{kb}/import")
    with page.expect_download() as download:
        page.click("#export-csv")
    download.value.save_as(tmp_path / "export.csv")
    exported = (tmp_path / "export.csv").read_text()
    assert exported.splitlines()[0] == ",".join(HEADER) and "Welcome aboard!" in exported
    # Exported file re-imports into an empty knowledge base as the same quick responses.
    other = new_kb(client, "copy")
    job = import_file(client, other, (tmp_path / "export.csv").read_bytes())
    assert job["status"] == "COMPLETE"
    with page.expect_download() as download:
        page.click("#import-template")
    assert download.value.suggested_filename == "Response Import Template.csv"

    # Delete the job from the history.
    page.goto(f"{url}/_qconnect/ui/#/kb/{kb}/jobs")
    page.get_by_role("button", name=f"Delete job {job_id(client, kb)}").click()
    page.click("#confirm-ok")
    page.locator("text=No import job for this knowledge base.").wait_for()
    assert client.list_import_jobs(knowledgeBaseId=kb)["importJobSummaries"] == []


def job_id(client: Any, kb: str) -> str:
    return client.list_import_jobs(knowledgeBaseId=kb)["importJobSummaries"][0]["importJobId"]


def test_run_a_held_job(browser: Any, manual_server: ServerProcess, shots: Shots) -> None:
    manual_server.reset()
    url = manual_server.endpoint_url
    client = qc(url)
    kb = new_kb(client)
    job = start(client, kb, upload(client, kb, csv_bytes([HEADER, ["Held", "Waiting", "", "", "", "", "", "", ""]])))
    page = open_console(browser, url)
    try:
        page.goto(f"{url}/_qconnect/ui/#/kb/{kb}/jobs")
        row = page.locator(f"tr[data-job='{job['importJobId']}']")
        assert "START_IN_PROGRESS" in row.inner_text()
        shots(page, "held-job")
        row.get_by_role("button", name=f"Run job {job['importJobId']}").click()
        page.locator(f"tr[data-job='{job['importJobId']}']", has_text="COMPLETE").wait_for()
        page.locator("#job-counts", has_text="imported: 1 · failed: 0").wait_for()
        assert (
            client.get_import_job(knowledgeBaseId=kb, importJobId=job["importJobId"])["importJob"]["status"]
            == "COMPLETE"
        )
        assert [s["name"] for s in client.list_quick_responses(knowledgeBaseId=kb)["quickResponseSummaries"]] == [
            "Held"
        ]
        assert page.console_errors == []
    finally:
        page.context.close()


def test_switching_account_and_region_changes_the_state_shown(page: Any, url: str, shots: Shots) -> None:
    new_kb(qc(url), "east")
    new_kb(qc(url, region="eu-west-2"), "west")
    page.reload()
    page.locator("#main tr", has_text="east").wait_for()
    page.fill("#scope-region", "eu-west-2")
    page.click("#scope button[type=submit]")
    page.locator("#main tr", has_text="west").wait_for()
    assert "east" not in page.inner_text("#main table")
    assert "eu-west-2" in page.inner_text("h1")
    shots(page, "region-switched")
    page.fill("#scope-account", "111122223333")
    page.click("#scope button[type=submit]")
    page.locator("text=No knowledge base in this account and region yet.").wait_for()
    page.fill("input[name=name]", "in another account")
    page.click("text=Create knowledge base")
    page.locator("#main tr", has_text="in another account").wait_for()
    other = qc(url, region="eu-west-2", account="111122223333").list_knowledge_bases()["knowledgeBaseSummaries"]
    assert [k["name"] for k in other] == ["in another account"]
    assert [k["name"] for k in qc(url, region="eu-west-2").list_knowledge_bases()["knowledgeBaseSummaries"]] == ["west"]
    # The choice survives a reload (kept in the browser).
    page.reload()
    page.locator("#main tr", has_text="in another account").wait_for()


def test_connect_directory_routing_profiles(page: Any, url: str, shots: Shots) -> None:
    page.goto(f"{url}/_qconnect/ui/#/directory")
    page.fill("#instance-id", "inst-1")
    page.click("text=Open")
    page.locator("text=Not in the directory yet.").wait_for()
    page.fill(
        "#instance-profiles",
        "Basic\nSales=arn:aws:connect:us-east-1:000000000000:instance/inst-1/routing-profile/sales",
    )
    page.click("#instance-save")
    page.locator("#instance-view tbody tr", has_text="Sales").wait_for()
    shots(page, "directory")
    with urllib.request.urlopen(f"{url}/_qconnect/connect-instances/inst-1/routing-profiles") as r:
        doc = json.load(r)
    assert {p["name"]: p["arn"] for p in doc["routingProfiles"]}["Sales"].endswith("/routing-profile/sales")
    assert sorted(p["name"] for p in doc["routingProfiles"]) == ["Basic", "Sales"]
    # The page lists the account's instances from the server (a fresh browser sees them too).
    page.locator("#instances tr[data-instance='inst-1']", has_text="2").wait_for()
    page.context.clear_cookies()
    page.evaluate("localStorage.clear()")
    page.reload()
    page.locator("#instances tr[data-instance='inst-1'] button").click()
    page.locator("#instance-view tbody tr", has_text="Basic").wait_for()
    # Another account's directory does not show it.
    page.fill("#scope-account", "111122223333")
    page.click("#scope button[type=submit]")
    page.locator("text=No instance in the directory for this account yet.").wait_for()


def test_narrow_window_keeps_the_pages_usable(browser: Any, url: str, shots: Shots) -> None:
    kb = new_kb(qc(url), "narrow")
    page = open_console(browser, url, width=390, height=800)
    try:
        page.locator("#main tr", has_text="narrow").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shots(page, "narrow-knowledge-bases")
        page.goto(f"{url}/_qconnect/ui/#/kb/{kb}")
        page.locator("#qr-info").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shots(page, "narrow-quick-responses")
        # Keyboard: Tab reaches the search box and typing searches.
        page.focus("#qr-search")
        page.keyboard.type("x")
        page.locator("#qr-info", has_text="SearchQuickResponses").wait_for()
    finally:
        page.context.close()


def test_request_log_lists_the_calls_the_test_made(page: Any, url: str, shots: Shots) -> None:
    client = qc(url)
    kb = new_kb(client, "logged")
    with pytest.raises(ClientError):
        client.get_quick_response(knowledgeBaseId=kb, quickResponseId="00000000-0000-4000-8000-000000000000")
    page.goto(f"{url}/_qconnect/ui/#/requests")
    row = page.locator("#requests tbody tr", has_text="CreateKnowledgeBase").first
    row.wait_for()
    assert "GetQuickResponse" in page.inner_text("#requests")
    failed = page.locator("#requests tbody tr", has_text="GetQuickResponse").first
    assert "404" in failed.inner_text() and "ResourceNotFoundException" in failed.inner_text()
    row.click()
    assert '"logged"' in page.inner_text("#request-body")
    assert kb in page.inner_text("#response-body")
    shots(page, "request-log")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # long bodies scroll in their box
    with urllib.request.urlopen(f"{url}/_qconnect/requests?limit=50") as r:
        logged = json.load(r)["requests"]
    assert any(r["operation"] == "CreateKnowledgeBase" and r["request"]["name"] == "logged" for r in logged)


def test_the_package_data_ships_every_console_file() -> None:
    """Every file under webui/static matches a package-data pattern, so the wheel carries it."""
    import fnmatch
    import tomllib

    root = Path(__file__).parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "qconnect_local"
    ]
    package = root / "src/qconnect_local"
    files = [p.relative_to(package).as_posix() for p in (package / "webui/static").rglob("*") if p.is_file()]
    assert "webui/static/index.html" in files
    # fnmatch's * crosses '/', setuptools' does not: compare directory by directory.
    missing = [f for f in files if not any(fnmatch.fnmatch(f, p) and f.count("/") == p.count("/") for p in patterns)]
    assert missing == []
