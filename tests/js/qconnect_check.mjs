// The JavaScript SDK against a qconnect-local server with --verify-signatures (run by
// tests/unhappy/test_sdk_clients.py). Prints one JSON object with what each step saw.
import {
  QConnectClient,
  CreateKnowledgeBaseCommand,
  CreateQuickResponseCommand,
  GetQuickResponseCommand,
  ListKnowledgeBasesCommand,
} from "@aws-sdk/client-qconnect";

const endpoint = process.env.QCONNECT_ENDPOINT;
const region = "us-east-1";
const client = (secretAccessKey, extra = {}) =>
  new QConnectClient({
    endpoint,
    region,
    credentials: { accessKeyId: process.env.QCONNECT_KEY_ID, secretAccessKey },
    ...extra,
  });
const failure = async (promise) => {
  try {
    await promise;
    return null;
  } catch (error) {
    return { name: error.name, status: error.$metadata?.httpStatusCode };
  }
};

const out = {};
const good = client(process.env.QCONNECT_SECRET);
const kb = (await good.send(new CreateKnowledgeBaseCommand({ name: "from-js", knowledgeBaseType: "QUICK_RESPONSES" })))
  .knowledgeBase;
out.knowledgeBaseArn = kb.knowledgeBaseArn;
const qr = (
  await good.send(
    new CreateQuickResponseCommand({ knowledgeBaseId: kb.knowledgeBaseArn, name: "js: hello", content: { content: "hi" } })
  )
).quickResponse;
const got = await good.send(new GetQuickResponseCommand({ knowledgeBaseId: kb.knowledgeBaseId, quickResponseId: qr.quickResponseId }));
out.lastModifiedBy = got.quickResponse.lastModifiedBy;
out.wrongSecret = await failure(client("not-the-secret").send(new ListKnowledgeBasesCommand({})));
const unknown = new QConnectClient({ endpoint, region, credentials: { accessKeyId: "AKIANOBODY", secretAccessKey: "x" } });
out.unknownKey = await failure(unknown.send(new ListKnowledgeBasesCommand({})));
// ListKnowledgeBases is throttled at 2 TPS on this server: the SDK's retries ride it out.
const retrying = client(process.env.QCONNECT_SECRET, { maxAttempts: 10 });
out.attempts = 0;
for (let i = 0; i < 6; i++) {
  const response = await retrying.send(new ListKnowledgeBasesCommand({}));
  out.attempts += response.$metadata.attempts;
}
const once = client(process.env.QCONNECT_SECRET, { maxAttempts: 1 });
const outcomes = [];
for (let i = 0; i < 6; i++) outcomes.push(await failure(once.send(new ListKnowledgeBasesCommand({}))));
out.throttled = outcomes.filter((o) => o !== null);
console.log(JSON.stringify(out));
