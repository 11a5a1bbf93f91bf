// A stand-in for the gateway, for checking the web application without the platform.
// It serves dist/ and implements a few API methods from memory with made-up data (two use
// cases, one dataset of generated 16-bit images, one model). Methods it does not know
// return HTTP 501 in the gateway's error format. Listens on 127.0.0.1 only.
//
//   node scripts/mock-gateway.mjs [port]     default port 48080; user "demo", any password
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const port = Number(process.argv[2] ?? 48080);
const webRoot = fileURLToPath(new URL('../dist/', import.meta.url));
const IMAGE_COUNT = 30;
const IMAGE_SIZE = 256;

const user = {
  name: 'users/demo',
  username: 'demo',
  displayName: 'Demo radiologist',
  roles: ['administrator'],
  provider: 'local',
};
const categories = [
  { value: 'A', label: 'Almost entirely fatty', reportText: 'The breasts are almost entirely fatty.' },
  { value: 'B', label: 'Scattered fibroglandular density', reportText: 'There are scattered areas of fibroglandular density.' },
  { value: 'C', label: 'Heterogeneously dense', reportText: 'The breasts are heterogeneously dense.' },
  { value: 'D', label: 'Extremely dense', reportText: 'The breasts are extremely dense.' },
];
const useCases = [
  {
    name: 'useCases/breast-density',
    displayName: 'Breast density',
    description: 'Assigns a breast density category to a screening mammogram.',
    bodyArea: 'BREAST',
    modality: 'MG',
    taskKind: 'MULTICLASS_CLASSIFICATION',
    state: 'PUBLISHED',
    submitter: 'demo',
    dataElements: [{ id: 'breast_density', name: 'Breast density', allowedValues: categories }],
  },
  {
    name: 'useCases/pneumothorax',
    displayName: 'Pneumothorax <b>draft</b>',
    description: 'Finds a pneumothorax on chest radiographs.',
    bodyArea: 'CHEST',
    modality: 'DX',
    taskKind: 'BINARY_CLASSIFICATION',
    state: 'SUBMITTED',
    submitter: 'someone',
  },
];
const instances = Array.from({ length: IMAGE_COUNT }, (_, index) => ({
  name: `datasets/demo/instances/i${String(index).padStart(3, '0')}`,
  sourceFile: `image-${index}.dcm`,
  modality: 'MG',
  laterality: index % 2 ? 'R' : 'L',
  view: index % 4 < 2 ? 'CC' : 'MLO',
  split: ['TRAIN', 'VALIDATION', 'TEST'][index % 3],
  studyDate: '2024-01-02',
  arrayBlob: `sha256:array${index}`,
  arrayShape: [String(IMAGE_SIZE), String(IMAGE_SIZE)],
  arrayDtype: '<u2',
  arrayReady: true,
  pngReady: false,
  hasImage: true,
}));
const annotations = new Map();
const comments = [];

// Builds a .npy file of a 16-bit test pattern: a disc whose brightness depends on
// the index, on a gradient background.
function makeNpy(index) {
  let header = `{'descr': '<u2', 'fortran_order': False, 'shape': (${IMAGE_SIZE}, ${IMAGE_SIZE}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
  prefix.writeUInt16LE(header.length, 8);
  const data = Buffer.alloc(IMAGE_SIZE * IMAGE_SIZE * 2);
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const dx = x - IMAGE_SIZE / 2;
      const dy = y - IMAGE_SIZE / 2;
      const inside = dx * dx + dy * dy < (IMAGE_SIZE / 3) ** 2;
      const value = inside ? 20000 + ((index * 1500) % 40000) : x * 40;
      data.writeUInt16LE(value, (y * IMAGE_SIZE + x) * 2);
    }
  }
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

function progress(annotator) {
  const mine = [...annotations.values()].filter((item) => item.annotator === annotator);
  const annotated = mine.filter((item) => item.state === 'ANNOTATED').length;
  const skipped = mine.filter((item) => item.state === 'SKIPPED').length;
  return {
    annotatedCount: String(annotated),
    skippedCount: String(skipped),
    totalInstances: String(IMAGE_COUNT),
    remainingCount: String(IMAGE_COUNT - annotated - skipped),
    quota: '20',
  };
}

// Checks an uploaded file the way the ingest service would at the first step: a DICOM
// Part 10 file has "DICM" after its 128-byte preamble. A file name containing
// "server-error" gets an HTTP error, to show how the page reports one.
function uploadResult(params, bytes) {
  const fileName = params.get('filename') ?? '';
  if (!params.get('dataset')) throw new ApiFailure(400, 'INVALID_ARGUMENT', 'dataset is missing');
  if (fileName.includes('server-error')) throw new ApiFailure(503, 'UNAVAILABLE', 'ingest is unavailable; retry');
  const dicom = bytes.length >= 132 && bytes.toString('latin1', 128, 132) === 'DICM';
  const result = dicom
    ? { fileName, outcome: 'STORED', instance: `datasets/demo/instances/u${bytes.length}`, message: 'stored' }
    : { fileName, outcome: 'REJECTED', reason: 'NOT_DICOM', message: `${fileName} is not a DICOM file` };
  return {
    results: [result],
    storedCount: dicom ? 1 : 0,
    rejectedCount: dicom ? 0 : 1,
  };
}

class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const methods = {
  'ailab.identity.v1.IdentityService/SignIn': (body) => {
    if (body.username !== 'demo') throw new ApiFailure(401, 'UNAUTHENTICATED', 'user name or password is wrong');
    return { token: 'mock-token', user };
  },
  'ailab.identity.v1.IdentityService/SignOut': () => ({}),
  'ailab.identity.v1.IdentityService/GetCurrentUser': () => user,
  'ailab.identity.v1.IdentityService/ListUsers': () => ({ users: [user] }),
  'ailab.identity.v1.IdentityService/ListAuditEvents': () => ({
    events: [{ time: new Date().toISOString(), user: 'demo', rpcMethod: 'x/Y', httpStatus: 200, requestId: 'r1' }],
  }),
  'ailab.catalog.v1.CatalogService/ListUseCases': (body) => {
    let list = useCases;
    if (/state=PUBLISHED/.test(body.filter ?? '')) list = list.filter((item) => item.state === 'PUBLISHED');
    if (/state=SUBMITTED/.test(body.filter ?? '')) list = list.filter((item) => item.state === 'SUBMITTED');
    return { useCases: list, totalSize: list.length };
  },
  'ailab.catalog.v1.CatalogService/GetUseCase': (body) => {
    const found = useCases.find((item) => item.name === body.name);
    if (!found) throw new ApiFailure(404, 'NOT_FOUND', `use case "${body.name}" not found`);
    return found;
  },
  'ailab.catalog.v1.CatalogService/ListUseCaseHistory': () => ({ stateChanges: [] }),
  'ailab.catalog.v1.CatalogService/ListComments': () => ({ comments }),
  'ailab.catalog.v1.CatalogService/CreateComment': (body) => {
    const comment = { name: `c${comments.length}`, author: 'demo', text: body.comment.text, createTime: new Date().toISOString() };
    comments.push(comment);
    return comment;
  },
  'ailab.ingest.v1.IngestService/ListDatasets': () => ({
    datasets: [{ name: 'datasets/demo', displayName: 'Demo mammograms', useCase: 'useCases/breast-density', counts: { instances: String(IMAGE_COUNT) } }],
  }),
  'ailab.ingest.v1.IngestService/ListInstances': () => ({ instances, totalSize: String(IMAGE_COUNT) }),
  'ailab.ingest.v1.IngestService/GetInstance': (body) => {
    const found = instances.find((item) => item.name === body.name);
    if (!found) throw new ApiFailure(404, 'NOT_FOUND', `instance "${body.name}" not found`);
    return found;
  },
  'ailab.ingest.v1.IngestService/ListPreparationRuns': () => ({}),
  'ailab.annotation.v1.AnnotationService/GetNextInstance': (body) => {
    const index = instances.findIndex((item) => !annotations.has(`${body.annotator}|${item.name}`));
    const counts = progress(body.annotator);
    if (index < 0) return { ...counts, done: true };
    return { ...counts, instance: instances[index].name, position: String(index + 1) };
  },
  'ailab.annotation.v1.AnnotationService/SaveAnnotation': (body) => {
    if (!categories.some((item) => item.value === body.label)) {
      throw new ApiFailure(400, 'INVALID_ARGUMENT', `label "${body.label}" is not a category`);
    }
    const annotation = { instance: body.instance, annotator: body.annotator, state: 'ANNOTATED', label: body.label };
    annotations.set(`${body.annotator}|${body.instance}`, annotation);
    return { annotation, created: true };
  },
  'ailab.annotation.v1.AnnotationService/SkipInstance': (body) => {
    const annotation = { instance: body.instance, annotator: body.annotator, state: 'SKIPPED' };
    annotations.set(`${body.annotator}|${body.instance}`, annotation);
    return { annotation };
  },
  'ailab.annotation.v1.AnnotationService/ListAnnotations': (body) => {
    const state = /state=(\w+)/.exec(body.filter ?? '')?.[1];
    const list = [...annotations.values()].filter((item) => item.annotator === body.annotator && (!state || item.state === state));
    return { annotations: list, totalSize: String(list.length) };
  },
  'ailab.annotation.v1.AnnotationService/GetAnnotationProgress': (body) => progress(body.annotator),
  'ailab.annotation.v1.AnnotationService/FinishSession': (body) => ({
    sessionAnnotatedCount: progress(body.annotator).annotatedCount,
    sessionSkippedCount: '0',
    progress: progress(body.annotator),
  }),
  'ailab.annotation.v1.AnnotationService/ListContests': () => ({
    contests: [{ name: 'contests/1', displayName: 'Winter contest', useCase: 'useCases/breast-density', dataset: 'datasets/demo', startTime: '2020-01-01T00:00:00Z', endTime: '2099-01-01T00:00:00Z' }],
  }),
  'ailab.annotation.v1.AnnotationService/ListAnnotatorRankings': () => ({
    rankings: [{ annotator: 'demo', annotatedCount: progress('demo').annotatedCount, rank: '1' }],
  }),
  'ailab.training.v1.TrainingService/ListModels': () => ({
    models: [{ name: 'models/m1', displayName: 'Density model 1', useCase: 'useCases/breast-density', classes: ['A', 'B', 'C', 'D'], architecture: 'resnet18', imageSize: 256, testMetrics: { kappa: 0.61, auc: 0.88, accuracy: 0.7, n: 40 } }],
  }),
  'ailab.inference.v1.InferenceService/Predict': (body) => {
    if (!body.model) throw new ApiFailure(400, 'INVALID_ARGUMENT', 'model is missing');
    const probabilities = [0.1, 0.6, 0.2, 0.1].map((probability, index) => ({ category: categories[index].value, label: categories[index].label, probability }));
    return { name: 'predictions/p1', model: body.model, probabilities, category: 'B', reportText: categories[1].reportText, inferenceMillis: 12 };
  },
};

const contentTypes = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

function sendJson(response, status, body, requestId) {
  response.writeHead(status, { 'Content-Type': 'application/json', 'X-Request-Id': requestId });
  response.end(JSON.stringify(body));
}

let requestCounter = 0;
const server = createServer(async (request, response) => {
  const requestId = `mock-${++requestCounter}`;
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  try {
    if (url.pathname.startsWith('/api/')) {
      const signIn = url.pathname.endsWith('/SignIn');
      if (!signIn && request.headers.authorization !== 'Bearer mock-token') {
        throw new ApiFailure(401, 'UNAUTHENTICATED', 'missing or invalid bearer token; sign in again');
      }
      if (url.pathname.startsWith('/api/blobs/')) {
        const id = decodeURIComponent(url.pathname.slice('/api/blobs/'.length));
        const match = /^sha256:array(\d+)$/.exec(id);
        if (!match) throw new ApiFailure(404, 'NOT_FOUND', `blob "${id}" not found`);
        response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Request-Id': requestId });
        response.end(makeNpy(Number(match[1])));
        return;
      }
      const chunks = [];
      for await (const chunk of request) chunks.push(chunk);
      if (url.pathname === '/api/upload') {
        sendJson(response, 200, uploadResult(url.searchParams, Buffer.concat(chunks)), requestId);
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const method = methods[url.pathname.slice('/api/'.length)];
      if (!method) throw new ApiFailure(501, 'UNIMPLEMENTED', `the mock gateway has no ${url.pathname}`);
      const body = text ? JSON.parse(text) : {};
      // The real gateway fills the caller field of a request with the signed-in user.
      if (url.pathname.includes('AnnotationService/') && !body.annotator) body.annotator = 'demo';
      sendJson(response, 200, method(body), requestId);
      return;
    }
    const path = normalize(join(webRoot, decodeURIComponent(url.pathname)));
    const file = path.startsWith(webRoot) && extname(path) ? path : join(webRoot, 'index.html');
    const body = await readFile(file);
    response.writeHead(200, { 'Content-Type': contentTypes[extname(file)] ?? 'application/octet-stream' });
    response.end(body);
  } catch (error) {
    if (error instanceof ApiFailure) {
      sendJson(response, error.status, { code: error.code, message: error.message, reason: 'MOCK', requestId }, requestId);
    } else if (error && error.code === 'ENOENT') {
      response.writeHead(404).end('not found');
    } else {
      sendJson(response, 500, { code: 'INTERNAL', message: String(error), requestId }, requestId);
    }
  }
});
server.listen(port, '127.0.0.1', () => console.log(`mock gateway on http://127.0.0.1:${port}/`));
