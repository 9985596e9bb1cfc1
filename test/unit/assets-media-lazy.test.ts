// The media normalizer loads sharp and unpdf only when an image, a PDF or a DXF arrives: importing
// it (as the asset store does at boot) and normalizing text or audio loads neither. A child process
// records every module it loads through a module hook.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const index = fileURLToPath(new URL('../../src/features/assets/media/index.ts', import.meta.url));

const script = (pngBase64: string) => `
import { registerHooks } from 'node:module';
const seen = [];
registerHooks({ load(url, context, next) { seen.push(url); return next(url, context); } });
const packages = () => [...new Set(seen.filter((u) => u.includes('/node_modules/')).map((u) => u.split('/node_modules/').pop().split('/')[0]))];
const m = await import(${JSON.stringify(index)});
await m.normalizeMedia({ file_name: 'a.txt', bytes: Buffer.from('hello') });
await m.normalizeMedia({ file_name: 'a.pcm', media_type: 'audio/pcm', bytes: Buffer.alloc(8) });
const before = packages();
const png = Buffer.from('${pngBase64}', 'base64');
await m.normalizeMedia({ file_name: 'a.png', bytes: png });
console.log(JSON.stringify({ before, after: packages() }));
`;

test('importing the normalizer and normalizing text or audio loads neither sharp nor unpdf', async () => {
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#08f' } })
    .png()
    .toBuffer();
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script(png.toString('base64'))], {
    encoding: 'utf8',
  });
  const { before, after } = JSON.parse(out.trim().split('\n').pop()!) as {
    before: string[];
    after: string[];
  };
  assert.ok(!before.includes('sharp'), `loaded before any image: ${before}`);
  assert.ok(!before.includes('unpdf'), `loaded before any PDF: ${before}`);
  // The hook does see packages: the PNG brought sharp in.
  assert.ok(after.includes('sharp'), `after a PNG: ${after}`);
});
