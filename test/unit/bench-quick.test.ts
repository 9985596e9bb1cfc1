// Smoke test of the benchmarks: `bench/run.ts --quick` runs every benchmark at tiny sizes and
// writes a result file. Only that numbers came out is asserted: timings belong in bench/, never
// in the assertions of the test suite.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE = existsSync(join(ROOT, 'node_modules/node/bin/node'))
  ? join(ROOT, 'node_modules/node/bin/node')
  : process.execPath;

const isNumber = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);

test('bench --quick runs every benchmark and records numbers', { timeout: 180_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'kheish-bench-quick-'));
  try {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((done) => {
      const p = spawn(
        NODE,
        [
          '--disable-warning=ExperimentalWarning',
          join(ROOT, 'bench/run.ts'),
          '--quick',
          '--profile',
          '--out',
          out,
        ],
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let o = '';
      let e = '';
      p.stdout.on('data', (d) => {
        o += d;
      });
      p.stderr.on('data', (d) => {
        e += d;
      });
      p.on('exit', (c) => done({ code: c, stdout: o, stderr: e }));
    });
    assert.equal(code, 0, `bench exited ${code}:\n${stderr.slice(-4000)}`);
    const files = readdirSync(out).filter((f) => f.endsWith('-quick.json'));
    assert.equal(files.length, 1, `one result file, got ${files.join(', ')}`);
    const doc = JSON.parse(readFileSync(join(out, files[0]!), 'utf8'));
    const r = doc.results;
    assert.ok(stdout.includes('| benchmark |'), 'the markdown table is printed');
    assert.ok(typeof doc.commit === 'string' && doc.machine.cores > 0);
    const numbers: Array<[string, unknown]> = [
      ['floor FULL p50', r.floor.full.commit_ms.p50],
      ['memory search precision@5 (mixed)', r.memory.precision_at_5.mixed],
      ['floor NORMAL p50', r.floor.normal.commit_ms.p50],
      ['langgraph step p50', r.langgraph.full.step_ms.p50],
      ['langgraph step p99', r.langgraph.full.step_ms.p99],
      ['step p50', r.step.full.step_ms.p50],
      ['step p99', r.step.full.step_ms.p99],
      ['replay events/s', r.stream.replay.events_per_s],
      ['history fresh p50', r.history.fresh_run_ms.p50],
      ['history old session p50', r.history.history_run_ms.p50],
      ['history ratio', r.history.ratio_p50],
      ['scale ready ms', r.scale.seeded.ready_ms],
      ['scale rss', r.scale.seeded.rss_mib],
      ['scale status ms', r.scale.seeded.status_ms],
      ['profile busy ms', r.profile.profile.busy_ms],
      ['profile sql per step', r.profile.sql_per_step.statements.total],
      ['profile sql exec ms per step', r.profile.sql_per_step.exec_ms.total],
      ['asset upload MiB/s', r.assets.sizes[0].daemon_mib_s],
      ['asset floor MiB/s', r.assets.sizes[0].floor_mib_s],
      ['ingress accept p50', r.ingress.accept_ms.p50],
      ['ingress events/s', r.ingress.ingress.per_s],
      ['ingress end to end p50', r.ingress.end_to_end_ms.p50],
      ['delivery latency p50', r.deliveries.latency_ms.p50],
      ['delivery bare POST p50', r.deliveries.bare_post_ms.p50],
      ['deliveries/s', r.deliveries.throughput.per_s],
      ['external ingress p50', r.external.ingress_ms.p50],
      ['external end-to-end p50', r.external.end_to_end_ms.p50],
      ['external events/s', r.external.events_per_s],
      ['vacuum MiB per 10k runs before', r.vacuum.mib_per_10k_runs_before],
      ['vacuum MiB per 10k runs after', r.vacuum.mib_per_10k_runs_after],
    ];
    for (const level of [...r.throughput.full.levels, ...r.throughput.normal.levels]) {
      numbers.push([`throughput ${level.concurrency}`, level.runs_per_s]);
      numbers.push([`daemon cpu per run ${level.concurrency}`, level.daemon_cpu_ms_per_run]);
    }
    for (const level of r.throughput.http_floor.levels)
      numbers.push([`http floor ${level.concurrency}`, level.requests_per_s]);
    // The rows the targets are read from are in the printed table.
    for (const row of ['| history, FULL |', '| HTTP floor:', 'daemon CPU ms per run', 'GET /v1/status ms at'])
      assert.ok(stdout.includes(row), `table row ${row}`);
    for (const level of r.stream.latency)
      numbers.push([`sse ${level.subscribers}`, level.publish_to_receive_ms.p50]);
    for (const [name, value] of numbers) assert.ok(isNumber(value), `${name}: ${value}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
