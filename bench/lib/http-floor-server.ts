// The server side of the HTTP floor (bench/http-floor.ts), in its own process on the same Node as
// the daemon: a bare node:http server that, per request, reads the JSON body, commits it as one
// row (better-sqlite3, WAL, one INSERT in autocommit, synchronous as asked) and answers 202 with a
// small JSON body. Nothing else: no routing, no validation library, no event log, no logger. This
// is the least "accept a run and record it durably over HTTP" can cost on this machine.
// Usage: node bench/lib/http-floor-server.ts <dir> <FULL|NORMAL> → prints `listening <url>`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const [dir, sync] = process.argv.slice(2);
if (!dir || (sync !== 'FULL' && sync !== 'NORMAL')) {
  process.stderr.write('usage: http-floor-server.ts <dir> <FULL|NORMAL>\n');
  process.exit(2);
}
const db = new Database(join(dir, 'http-floor.sqlite'));
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${sync}`);
db.exec('CREATE TABLE runs (id INTEGER PRIMARY KEY, content TEXT NOT NULL, at_ms INTEGER NOT NULL)');
const insert = db.prepare('INSERT INTO runs (content, at_ms) VALUES (?, ?)');

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let content: string;
    try {
      content = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).content);
    } catch {
      res.writeHead(400, { 'content-type': 'application/problem+json' }).end('{"status":400}');
      return;
    }
    // Acknowledge only what is committed: the INSERT returns after the fsync (FULL).
    const id = insert.run(content, Date.now()).lastInsertRowid;
    const body = `{"run_id":"${id}","status":"queued"}`;
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  db.close();
  process.exit(0);
});
