// The TypeScript SDK end to end (docs/sdk.md): submit a prompt, watch the run from its first event,
// approve the tool call it stops for, resume the watch from the last event id, read the answer,
// and handle an error. Needs a running daemon:
//   KHEISH_BASE_URL=http://127.0.0.1:4000 node examples/sdk-quickstart.ts
import { DaemonProblemError, Kheish, type RunView } from 'kheish-daemon/sdk';

const client = Kheish.fromEnv();
const session = process.env.SDK_SESSION_ID ?? `sdk-demo-${Date.now()}`;

// 1. Submit: the session is created if missing; the daemon owns the run from here.
const run = await client.responses.create({
  session,
  prompt: 'Create hello.txt containing "Hello from the SDK", then reply with one sentence.',
});
console.log(`submitted ${run.run_id} in session ${run.session_id}`);

// 2. Watch from the run's first event. Stop when it waits for an operator (or is over).
let lastStatus = '';
const show = (view: RunView) => {
  if (view.status !== lastStatus) console.log(`status: ${view.status}`);
  lastStatus = view.status;
};
let cursor: string | undefined;
for await (const event of run.watch()) {
  cursor = event.id ?? cursor;
  if (event.event === 'run_updated') {
    show(event.data.run);
    if (event.data.run.status === 'waiting_for_approval') break;
  } else if (event.event === 'output') {
    console.log(`output: ${event.data.output.content}`);
  }
}

// 3. Approvals: the run is parked (durably) until someone decides.
const blocked = await run.waitUntilBlocked();
if (blocked.requiresApproval) {
  for (const request of blocked.pendingApprovals)
    console.log(`approving ${request.tool_name} ${JSON.stringify(request.input)}`);
  await blocked.approveAll('approved by the SDK quickstart');

  // 4. Resume the watch after the last event seen: another process could do this with the same id.
  for await (const event of client.runs.watch(run.run_id, { cursor })) {
    if (event.event === 'run_updated') show(event.data.run);
    else if (event.event === 'output') console.log(`output: ${event.data.output.content}`);
  }
}

// 5. The result: a failed, cancelled or interrupted run throws RunFailedError here.
const result = await run.wait({ raiseOnFailure: true });
console.log(`answer: ${result.output_text}`);

// 6. Errors are problem+json documents, with the same fields in every SDK.
try {
  await client.runs.get('run-does-not-exist');
} catch (err) {
  if (!(err instanceof DaemonProblemError)) throw err;
  console.log(`error: HTTP ${err.status} ${err.domain}/${err.code}: ${err.detail}`);
}
