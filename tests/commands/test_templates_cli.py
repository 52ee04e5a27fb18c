"""`qconnect-local templates ...` through the real entry point, against the suite's server: the
export -> import round trip gives the same templates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLI = str(Path(sys.executable).parent / "qconnect-local")
PROFILE = "arn:aws:connect:us-east-1:123456789012:instance/abc/routing-profile/def"
EMAIL = {
    "email": {
        "subject": "Hello {{Attributes.Customer.FirstName}}",
        "body": {"plainText": {"content": "Hi\nthere"}, "html": {"content": "<p>Hi</p>"}},
        "headers": [{"name": "X-Team", "value": "care"}],
    }
}


def run(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [CLI, "templates", *args, "--endpoint-url", endpoint], capture_output=True, text=True, timeout=120, env=env
    )


def comparable(client, kb: str) -> list[dict]:
    out = []
    for s in client.list_message_templates(knowledgeBaseId=kb)["messageTemplateSummaries"]:
        t = client.get_message_template(knowledgeBaseId=kb, messageTemplateId=s["messageTemplateId"])["messageTemplate"]
        keep = ("name", "description", "channelSubtype", "language", "content", "defaultAttributes", "tags")
        out.append({k: t.get(k) for k in (*keep, "groupingConfiguration", "messageTemplateContentSha256")})
    return sorted(out, key=lambda t: t["name"])


def test_list_get_render_export_import_round_trip(qconnect, endpoint, tmp_path):
    kb = qconnect.create_knowledge_base(name="src", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    email = qconnect.create_message_template(
        knowledgeBaseId=kb,
        name="Welcome / email",
        description="First contact",
        channelSubtype="EMAIL",
        content=EMAIL,
        language="en_US",
        defaultAttributes={"customerProfileAttributes": {"firstName": "there"}},
        groupingConfiguration={"criteria": "RoutingProfileArn", "values": [PROFILE]},
        tags={"team": "care"},
    )["messageTemplate"]
    qconnect.create_message_template(
        knowledgeBaseId=kb,
        name="Code",
        channelSubtype="SMS",
        content={"sms": {"body": {"plainText": {"content": "Code {{Attributes.Custom.Code}}"}}}},
    )
    listed = run(endpoint, "list", kb)
    assert listed.returncode == 0, listed.stderr
    assert "Welcome / email" in listed.stdout and "Code" in listed.stdout
    got = run(endpoint, "get", kb, email["messageTemplateId"])
    assert json.loads(got.stdout)["name"] == "Welcome / email"
    rendered = run(endpoint, "render", kb, email["messageTemplateId"], "--attributes", "{}")
    assert json.loads(rendered.stdout)["content"]["email"]["subject"] == "Hello there"
    bad = run(endpoint, "render", kb, email["messageTemplateId"], "--attributes", "{")
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")

    exported = run(endpoint, "export", kb, str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    folder = tmp_path / "out" / "Welcome-email"
    assert (folder / "body.html").read_text() == "<p>Hi</p>"
    assert (folder / "body.txt").read_text() == "Hi\nthere"
    assert (tmp_path / "out" / "Code" / "body.txt").read_text() == "Code {{Attributes.Custom.Code}}"

    target = qconnect.create_knowledge_base(name="dst", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    imported = run(endpoint, "import", target, str(tmp_path / "out"))
    assert imported.returncode == 0, imported.stderr
    assert comparable(qconnect, target) == comparable(qconnect, kb)

    # Importing again updates in place: an edited body lands, nothing is duplicated.
    (tmp_path / "out" / "Code" / "body.txt").write_text("New code {{Attributes.Custom.Code}}")
    again = run(endpoint, "import", target, str(tmp_path / "out"))
    assert again.returncode == 0 and "updated Code" in again.stdout
    summaries = qconnect.list_message_templates(knowledgeBaseId=target)["messageTemplateSummaries"]
    assert len(summaries) == 2
    code = next(s for s in summaries if s["name"] == "Code")
    body = qconnect.get_message_template(knowledgeBaseId=target, messageTemplateId=code["messageTemplateId"])
    assert body["messageTemplate"]["content"]["sms"]["body"]["plainText"]["content"].startswith("New code")


def test_errors_are_one_line(endpoint, tmp_path):
    missing = run(endpoint, "list", "3f0b7a52-1c1e-4f6e-9d8a-2b1f0c3e4d5a")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ResourceNotFoundException")
    assert run(endpoint, "import", "3f0b7a52-1c1e-4f6e-9d8a-2b1f0c3e4d5a", str(tmp_path / "nope")).returncode != 0


def test_template_options_are_serve_options_only():
    from qconnect_local.cli import build_parser, settings_from_args

    serve = settings_from_args(build_parser().parse_args(["serve", "--max-template-attachments", "3"]))
    assert serve.quotas.attachments_per_message_template == 3
    # The worker shares settings_from_args without these options: it keeps the defaults.
    worker = settings_from_args(build_parser().parse_args(["worker"]))
    assert worker.quotas.attachments_per_message_template == 10
