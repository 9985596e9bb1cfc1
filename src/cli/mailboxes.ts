// `mailboxes post` (ops-runtime §2.10) and the mailbox commands of `agents`: drain-mailbox (lists
// the queued messages; like the published CLI it does not consume them), mailbox-dead-letters and
// ack-mailbox. The agents command group lives in agents.ts and calls registerMailboxAgentCommands.
import type { Command } from 'commander';
import {
  ackMailboxMessage,
  type MailboxMessage,
  mailboxDeadLetters,
  type PostMailboxRequest,
  peekMailbox,
  postMailbox,
} from '../sdk/mailboxes.ts';
import { jsonInput } from './approvals.ts';
import { EXIT } from './errors.ts';
import { oneLine, scalar, str, table, time } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

export function renderMailbox(messages: MailboxMessage[], empty = 'no queued messages'): string[] {
  if (messages.length === 0) return [empty];
  return table(
    ['MESSAGE', 'STATE', 'KIND', 'FROM', 'CREATED', 'SUBJECT', 'PAYLOAD'],
    messages.map((m) => [
      m.id,
      m.state,
      m.kind,
      m.from,
      time(m.created_at_ms) ?? '-',
      oneLine(m.subject, 30),
      `${scalar(m.payload, 50)}${str(m.last_error) ? `  (${m.last_error})` : ''}`,
    ]),
  );
}

interface PostFlags {
  fromAgentId: string;
  toAgentId: string;
  subject: string;
  messageId?: string;
  ttlMs?: number;
  payloadJson?: string;
  payloadFile?: string;
  replyTo?: string;
}

/** `mailboxes post`, plus the mailbox commands of `agents` (found, or created when absent). */
export function registerMailboxes(program: Command, rt: CliRuntime): void {
  const agents =
    program.commands.find((c) => c.name() === 'agents') ??
    program.command('agents').alias('agent').description('inspect agents and their mailboxes');
  registerMailboxAgentCommands(agents, rt);

  const mailboxes = program
    .command('mailboxes')
    .alias('mailbox')
    .description('post typed messages between agents (delivered as mailbox_delivery runs)');

  mailboxes
    .command('post')
    .description('post one message; 202 means it is durably queued for the target agent')
    .requiredOption('--from-agent-id <id>', 'the sending agent', nonEmpty)
    .requiredOption('--to-agent-id <id>', 'the receiving agent', nonEmpty)
    .requiredOption('--subject <subject>', 'what the message is about', nonEmpty)
    .option(
      '--message-id <id>',
      'your id for the message: posting it again is a duplicate, not a second message',
      nonEmpty,
    )
    .option(
      '--ttl-ms <ms>',
      'dead-letter the message if it is not delivered within this many ms',
      positiveInt,
    )
    .option('--payload-json <json>', 'the payload, as JSON (default null)')
    .option('--payload-file <file>', 'read the JSON payload from a file (- for stdin)')
    .option('--reply-to <request_id>', 'answer the pending parent clarification with this request id')
    .action(async (f: PostFlags) => {
      const payload = await jsonInput(rt, f.payloadJson, f.payloadFile, 'payload');
      const body: PostMailboxRequest = {
        from_agent_id: f.fromAgentId,
        to_agent_id: f.toAgentId,
        subject: f.subject,
        payload: payload ?? null,
      };
      if (f.messageId !== undefined) body.message_id = f.messageId;
      if (f.ttlMs !== undefined) body.ttl_ms = f.ttlMs;
      if (f.replyTo !== undefined) body.reply_to = f.replyTo;
      const res = await postMailbox(rt.client(), body);
      rt.emit(res, (r) => [
        r.duplicate
          ? `message ${r.message_id} was already accepted (duplicate; nothing new queued)`
          : `accepted message ${r.message_id} for ${f.toAgentId}`,
      ]);
    });
}

/** Adds drain-mailbox, mailbox-dead-letters and ack-mailbox to the `agents` command. */
export function registerMailboxAgentCommands(agents: Command, rt: CliRuntime): void {
  agents
    .command('drain-mailbox')
    .description("list an agent's queued and in-flight messages in delivery order (does not consume them)")
    .argument('<agent_id>')
    .action(async (agentId: string) =>
      rt.emit(await peekMailbox(rt.client(), agentId), (m) => renderMailbox(m)),
    );

  agents
    .command('mailbox-dead-letters')
    .description("list an agent's dead-lettered messages (expired, undeliverable, failed delivery)")
    .argument('<agent_id>')
    .action(async (agentId: string) =>
      rt.emit(await mailboxDeadLetters(rt.client(), agentId), (m) => renderMailbox(m, 'no dead letters')),
    );

  agents
    .command('ack-mailbox')
    .description('acknowledge a message without delivering it: drops a queued one, clears a dead letter')
    .argument('<agent_id>')
    .argument('<message_id>')
    .action(async (agentId: string, messageId: string) => {
      const res = await ackMailboxMessage(rt.client(), agentId, messageId);
      if (!res.acknowledged) rt.exitCode = EXIT.failure;
      rt.emit(res, (r) => [
        r.acknowledged
          ? `acknowledged ${r.message_id}`
          : `${r.message_id} was not acknowledged: it is not queued or dead-lettered for ${r.agent_id} (in flight, delivered, or unknown)`,
      ]);
    });
}
