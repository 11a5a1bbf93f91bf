// Client of the gateway's HTTP API.
//
// Every RPC is `POST /api/<full service name>/<Method>` with the request message in
// protobuf's JSON mapping (lowerCamelCase names, enums as names, int64 as strings,
// timestamps RFC 3339). The session token from IdentityService/SignIn is kept in
// sessionStorage and sent as `Authorization: Bearer <token>`.

import type { TrainingJob, UploadInstancesResponse, User } from './types';

export const CATALOG = 'ailab.catalog.v1.CatalogService';
export const INGEST = 'ailab.ingest.v1.IngestService';
export const ANNOTATION = 'ailab.annotation.v1.AnnotationService';
export const TRAINING = 'ailab.training.v1.TrainingService';
export const INFERENCE = 'ailab.inference.v1.InferenceService';
export const EVALUATION = 'ailab.evaluation.v1.EvaluationService';
export const PUBLISHING = 'ailab.evaluation.v1.PublishingService';
export const IDENTITY = 'ailab.identity.v1.IdentityService';

const TOKEN_KEY = 'ailab.token';
const USER_KEY = 'ailab.user';

/** Path of the sign-in page, where a 401 response sends the browser. */
export const SIGN_IN_PATH = '/signin';

/** An error response of the gateway, or a network failure (status 0). */
export class ApiError extends Error {
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** gRPC code name, for example "NOT_FOUND". */
  readonly code: string;
  /** UPPER_SNAKE reason of the error, or empty. */
  readonly reason: string;
  /** X-Request-Id of the failed request, for the operator's logs. */
  readonly requestId: string;

  constructor(status: number, code: string, message: string, reason = '', requestId = '') {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.reason = reason;
    this.requestId = requestId;
  }
}

/** Returns the session token, or an empty string when no user is signed in. */
export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** Stores the session and the signed-in user (or clears both with null). */
export function setSession(token: string | null, user: User | null = null): void {
  if (token === null) {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  if (user) sessionStorage.setItem(USER_KEY, JSON.stringify(user));
}

/** Returns the user stored at sign-in, or null. */
export function storedUser(): User | null {
  const text = sessionStorage.getItem(USER_KEY);
  if (!text) return null;
  try {
    return JSON.parse(text) as User;
  } catch {
    return null;
  }
}

/** Returns the user id of a user resource name: "users/abc" -> "abc". */
export function userId(user: User | null): string {
  if (!user) return '';
  return user.name.startsWith('users/') ? user.name.slice('users/'.length) : user.name;
}

/** Returns true when the user has the role; administrators have every role. */
export function hasRole(user: User | null, role: string): boolean {
  if (!user) return false;
  return user.roles.includes('administrator') || user.roles.includes(role);
}

function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function goToSignIn(): void {
  setSession(null);
  if (window.location.pathname !== SIGN_IN_PATH) {
    const back = encodeURIComponent(window.location.pathname + window.location.search);
    window.location.assign(`${SIGN_IN_PATH}?next=${back}`);
  }
}

// Builds an ApiError from an error response, whose body is normally
// {"code","message","reason","requestId"} but may be plain text from a proxy.
async function errorFromResponse(response: Response): Promise<ApiError> {
  const headerId = response.headers.get('X-Request-Id') ?? '';
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<Record<string, string>>;
    return new ApiError(
      response.status,
      body.code ?? `HTTP_${response.status}`,
      body.message ?? (text || response.statusText),
      body.reason ?? '',
      body.requestId ?? headerId,
    );
  } catch {
    return new ApiError(
      response.status,
      `HTTP_${response.status}`,
      text.trim() || response.statusText || `request failed with HTTP ${response.status}`,
      '',
      headerId,
    );
  }
}

async function send(path: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(
      0,
      'UNAVAILABLE',
      `the gateway could not be reached (${String(error)}); check that it runs and retry`,
    );
  }
  if (response.ok) return response;
  const apiError = await errorFromResponse(response);
  if (response.status === 401 && !path.endsWith('/SignIn')) goToSignIn();
  throw apiError;
}

/** Calls `service`/`method` with `body` and returns the decoded response message. */
export async function call<T>(service: string, method: string, body: object = {}): Promise<T> {
  const response = await send(`/api/${service}/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...authHeaders() },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** Fetches a blob of the blob store ("sha256:<hex>"); use URL.createObjectURL to show it. */
export async function fetchBlob(id: string, signal?: AbortSignal): Promise<Blob> {
  const response = await send(`/api/blobs/${encodeURIComponent(id)}`, {
    headers: authHeaders(),
    signal,
  });
  return response.blob();
}

/** Progress of one upload, in bytes sent so far out of the file's size. */
export type UploadProgress = (sentBytes: number, totalBytes: number) => void;

/**
 * Uploads one DICOM file into `dataset` ("datasets/{id}"). XMLHttpRequest rather than
 * fetch, because only it reports upload progress.
 */
export function upload(
  dataset: string,
  file: File,
  onProgress?: UploadProgress,
): Promise<UploadInstancesResponse> {
  const query = new URLSearchParams({ dataset, filename: file.name });
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', `/api/upload?${query.toString()}`);
    request.setRequestHeader('Content-Type', 'application/dicom');
    const token = getToken();
    if (token) request.setRequestHeader('Authorization', `Bearer ${token}`);
    request.upload.onprogress = (event) => {
      if (onProgress) onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    };
    request.onerror = () =>
      reject(new ApiError(0, 'UNAVAILABLE', `upload of "${file.name}" failed: no response from the gateway; check that it runs and retry`));
    request.onload = () => {
      const requestId = request.getResponseHeader('X-Request-Id') ?? '';
      let body: Record<string, unknown> = {};
      try {
        body = request.responseText ? JSON.parse(request.responseText) : {};
      } catch {
        body = { message: request.responseText };
      }
      if (request.status >= 200 && request.status < 300) {
        resolve(body as UploadInstancesResponse);
        return;
      }
      if (request.status === 401) goToSignIn();
      reject(
        new ApiError(
          request.status,
          String(body.code ?? `HTTP_${request.status}`),
          String(body.message ?? request.statusText),
          String(body.reason ?? ''),
          String(body.requestId ?? requestId),
        ),
      );
    };
    request.send(file);
  });
}

/**
 * Follows a training job ("trainingJobs/{id}") through the gateway's server-sent
 * events and calls `onJob` with each new state. Resolves when the stream ends (the
 * job finished, or `signal` aborted it) and rejects on an error response.
 */
export async function watchJob(
  name: string,
  onJob: (job: TrainingJob) => void,
  signal?: AbortSignal,
): Promise<void> {
  const id = name.startsWith('trainingJobs/') ? name.slice('trainingJobs/'.length) : name;
  let response: Response;
  try {
    response = await send(`/api/events/trainingJobs/${encodeURIComponent(id)}`, {
      headers: { Accept: 'text/event-stream', ...authHeaders() },
      signal,
    });
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      // Events are separated by a blank line; "data:" lines of one event are joined
      // with newlines, as the SSE format specifies.
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        const data = block
          .split(/\r?\n/)
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data) onJob(JSON.parse(data) as TrainingJob);
      }
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** Returns the base64 text of a file's bytes, the JSON mapping of a `bytes` field. */
export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Returns the last segment of a resource name: "datasets/abc" -> "abc". */
export function resourceId(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash >= 0 ? name.slice(slash + 1) : name;
}

export * from './types';
