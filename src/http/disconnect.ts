// A signal that aborts when the client goes away before the answer is sent, for handlers that wait
// (inline input, task output with `wait`). The request's own 'close' event is not it: Node emits it
// as soon as the body has been read, which would end every wait at once.
import type { FastifyReply } from 'fastify';

export function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) ac.abort();
  });
  return ac.signal;
}
