// Unit tests of the browser-independent modules (src/api.ts, src/image.ts and the
// model pages' operating-point arithmetic): compiles them with tsc into a temporary
// folder and runs them under node:test with stand-ins for fetch and sessionStorage.
//
//   npm test
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const webDir = fileURLToPath(new URL('..', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'ailab-web-test-'));
after(() => rmSync(outDir, { recursive: true, force: true }));

execFileSync(
  join(webDir, 'node_modules', '.bin', 'tsc'),
  [
    '--outDir', outDir, '--module', 'es2022', '--moduleResolution', 'bundler', '--target', 'es2022',
    '--skipLibCheck', '--strict', '--types', 'vite/client',
    join(webDir, 'src', 'api.ts'), join(webDir, 'src', 'image.ts'),
    join(webDir, 'src', 'pages', 'model', 'operating-point.ts'),
  ],
  { cwd: webDir, stdio: 'inherit' },
);
// Node needs file extensions on relative imports; the bundler does not.
for (const file of readdirSync(outDir, { recursive: true })) {
  if (!file.endsWith('.js')) continue;
  const path = join(outDir, file);
  writeFileSync(path, readFileSync(path, 'utf8').replace(/from '(\.\/[a-z-]+)'/g, "from '$1.js'"));
}
writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');

const storage = new Map();
globalThis.sessionStorage = {
  getItem: (key) => storage.get(key) ?? null,
  setItem: (key, value) => storage.set(key, String(value)),
  removeItem: (key) => storage.delete(key),
};
const assigned = [];
globalThis.window = { location: { pathname: '/data', search: '?x=1', assign: (url) => assigned.push(url) } };

const api = await import(pathToFileURL(join(outDir, 'api.js')).href);
const image = await import(pathToFileURL(join(outDir, 'image.js')).href);
const operatingPoint = await import(pathToFileURL(join(outDir, 'pages', 'model', 'operating-point.js')).href);

function streamOf(chunks) {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
}

test('call posts JSON with the bearer token', async () => {
  api.setSession('token-1', { name: 'users/u1', username: 'u1', roles: ['radiologist'] });
  let request;
  globalThis.fetch = async (url, init) => {
    request = { url, init };
    return new Response('{"useCases":[]}', { status: 200 });
  };
  const response = await api.call(api.CATALOG, 'ListUseCases', { pageSize: 5 });
  assert.deepEqual(response, { useCases: [] });
  assert.equal(request.url, '/api/ailab.catalog.v1.CatalogService/ListUseCases');
  assert.equal(request.init.method, 'POST');
  assert.equal(request.init.headers.Authorization, 'Bearer token-1');
  assert.equal(request.init.body, '{"pageSize":5}');
});

test('call turns the error body into ApiError', async () => {
  globalThis.fetch = async () =>
    new Response('{"code":"NOT_FOUND","message":"use case x not found","reason":"USE_CASE_NOT_FOUND","requestId":"r1"}', {
      status: 404,
    });
  await assert.rejects(api.call('S', 'M'), (error) => {
    assert.ok(error instanceof api.ApiError);
    assert.equal(error.status, 404);
    assert.equal(error.code, 'NOT_FOUND');
    assert.equal(error.message, 'use case x not found');
    assert.equal(error.reason, 'USE_CASE_NOT_FOUND');
    assert.equal(error.requestId, 'r1');
    return true;
  });
});

test('call reports a plain-text error with the header request id', async () => {
  globalThis.fetch = async () => new Response('bad gateway', { status: 502, headers: { 'X-Request-Id': 'h2' } });
  await assert.rejects(api.call('S', 'M'), (error) => {
    assert.equal(error.status, 502);
    assert.equal(error.code, 'HTTP_502');
    assert.equal(error.message, 'bad gateway');
    assert.equal(error.requestId, 'h2');
    return true;
  });
});

test('call reports an unreachable gateway as status 0', async () => {
  globalThis.fetch = async () => {
    throw new TypeError('Failed to fetch');
  };
  await assert.rejects(api.call('S', 'M'), (error) => {
    assert.equal(error.status, 0);
    assert.equal(error.code, 'UNAVAILABLE');
    return true;
  });
});

test('401 clears the session and goes to sign-in', async () => {
  api.setSession('token-2', { name: 'users/u1', username: 'u1', roles: [] });
  assigned.length = 0;
  globalThis.fetch = async () => new Response('{"code":"UNAUTHENTICATED","message":"expired"}', { status: 401 });
  await assert.rejects(api.call('S', 'M'));
  assert.equal(api.getToken(), '');
  assert.deepEqual(assigned, ['/signin?next=%2Fdata%3Fx%3D1']);
});

test('watchJob parses events split across chunks', async () => {
  api.setSession('token-3');
  let url = '';
  globalThis.fetch = async (requested) => {
    url = requested;
    return new Response(
      streamOf([
        'data: {"name":"trainingJobs/7","state":"QU',
        'EUED"}\n',
        '\n: keep-alive comment\n\ndata: {"name":"trainingJobs/7",\r\n',
        'data: "state":"RUNNING"}\r\n\r\n',
        'data: {"name":"trainingJobs/7","state":"SUCCEEDED"}\n\n',
      ]),
      { status: 200 },
    );
  };
  const states = [];
  await api.watchJob('trainingJobs/7', (job) => states.push(job.state));
  assert.equal(url, '/api/events/trainingJobs/7');
  assert.deepEqual(states, ['QUEUED', 'RUNNING', 'SUCCEEDED']);
});

test('hasRole treats administrators as every role', () => {
  assert.equal(api.hasRole({ name: 'users/a', username: 'a', roles: ['administrator'] }, 'reviewer'), true);
  assert.equal(api.hasRole({ name: 'users/b', username: 'b', roles: ['radiologist'] }, 'reviewer'), false);
  assert.equal(api.hasRole(null, 'reviewer'), false);
  assert.equal(api.userId({ name: 'users/abc', username: 'x', roles: [] }), 'abc');
});

test('fileToBase64 encodes bytes', async () => {
  assert.equal(await api.fileToBase64(new Blob([new Uint8Array([0, 1, 2, 250, 255])])), 'AAEC+v8=');
});

// Builds a .npy file: magic, version, little-endian header length, padded dict.
function npy(descr, shape, data, version = 1) {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const prefixLength = version === 1 ? 10 : 12;
  header += ' '.repeat((64 - ((prefixLength + header.length + 1) % 64)) % 64) + '\n';
  const prefix = new Uint8Array(prefixLength);
  prefix.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(prefix.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  const bytes = new Uint8Array(prefixLength + header.length + data.byteLength);
  bytes.set(prefix);
  bytes.set(new TextEncoder().encode(header), prefixLength);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefixLength + header.length);
  return bytes.buffer;
}

test('decodeNpy reads uint16 arrays', () => {
  const pixels = new Uint16Array([0, 1000, 65535, 300, 20, 40]);
  const decoded = image.decodeNpy(npy('<u2', [2, 3], pixels), 'k');
  assert.equal(decoded.width, 3);
  assert.equal(decoded.height, 2);
  assert.equal(decoded.maxValue, 65535);
  assert.deepEqual([...decoded.pixels], [...pixels]);
  assert.equal(decoded.dataMin, 0);
  assert.equal(decoded.dataMax, 65535);
});

test('decodeNpy scales float32 and drops size-1 axes', () => {
  const decoded = image.decodeNpy(npy('<f4', [1, 2, 2], new Float32Array([0, 0.5, 1, 2]), 2), 'k');
  assert.equal(decoded.width, 2);
  assert.equal(decoded.height, 2);
  assert.deepEqual([...decoded.pixels], [0, 32768, 65535, 65535]);
});

test('decodeNpy rejects bad input with a message', () => {
  assert.throws(() => image.decodeNpy(new Uint8Array([1, 2, 3]).buffer, 'k'), /not a \.npy file/);
  assert.throws(() => image.decodeNpy(npy('<i8', [1, 1], new BigInt64Array([1n])), 'k'), /dtype <i8/);
  assert.throws(() => image.decodeNpy(npy('<u2', [2, 2, 2], new Uint16Array(8)), 'k'), /2-D images only/);
  const truncated = npy('<u2', [4, 4], new Uint16Array(16)).slice(0, 140);
  assert.throws(() => image.decodeNpy(npy('<u2', [4, 4], new Uint16Array(16)).slice(0, 80), 'k'), /header claims/);
  assert.throws(() => image.decodeNpy(truncated, 'k'), /shorter than its shape/);
});

// The JSON mapping leaves out fields that are 0, so a ROC point at fpr 0 has no "fpr" and
// a count of 0 is absent. Read as NaN, they made the confusion matrix's colour scale NaN,
// and ECharts threw while painting it.
test('operatingPointAt: absent fields are 0', () => {
  const metrics = {
    roc: [{ tpr: 0.5, threshold: 0.8 }, { fpr: 0.25, tpr: 1, threshold: 0.3 }, { fpr: 1, tpr: 1 }],
    atThreshold: { truePositives: '4', trueNegatives: '4' },
  };
  assert.deepEqual(operatingPoint.operatingPointAt(metrics, 0.5), {
    threshold: 0.5, fpr: 0, tpr: 0.5, truePositives: 2, falseNegatives: 2, falsePositives: 0, trueNegatives: 4,
  });
  const low = operatingPoint.operatingPointAt(metrics, 0.2);
  assert.equal(low.fpr, 0.25);
  assert.equal(low.falsePositives, 1);
  assert.deepEqual(operatingPoint.operatingPointAt(metrics, 0.9), {
    threshold: 0.9, fpr: 0, tpr: 0, truePositives: 0, falseNegatives: 4, falsePositives: 0, trueNegatives: 4,
  });
});

test('operatingPointFromMetrics: absent fields are 0', () => {
  const point = operatingPoint.operatingPointFromMetrics({ threshold: 0.4, specificity: 1, truePositives: '3' });
  assert.deepEqual(point, {
    threshold: 0.4, tpr: 0, fpr: 0, truePositives: 3, falsePositives: 0, trueNegatives: 0, falseNegatives: 0,
  });
  assert.ok(Number.isNaN(operatingPoint.operatingPointFromMetrics({ sensitivity: 'NaN' }).tpr));
});
