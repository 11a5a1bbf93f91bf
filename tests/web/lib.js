// Helpers shared by the browser tests and the gateway benchmark: the stack description
// that tests/web/stack.sh writes, Debian's Chromium through playwright-core, sign-in,
// console error collection, screenshots and direct calls to the gateway's HTTP API.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

// Reads stack.json (path in AILAB_STACK_JSON).
export function loadStack() {
  const file = process.env.AILAB_STACK_JSON;
  if (!file) {
    throw new Error('AILAB_STACK_JSON is not set; start a stack with tests/web/stack.sh and point it at its stack.json');
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// Chromium flags: headless, and no traffic of its own (updates, sync, field trials).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Starts /usr/bin/chromium with a new, empty profile folder, removed by close().
export async function launchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ailab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Opens a tab that records console errors and uncaught exceptions in `problems`. For
// failure messages, `trail` records main-frame navigations, API replies other than 200,
// failed requests and a crash of the tab.
export async function openPage(context) {
  const page = await context.newPage();
  const problems = [];
  const trail = [];
  const stamp = () => new Date().toISOString().slice(11, 23);
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) trail.push(`${stamp()} navigated to ${frame.url()}`);
  });
  page.on('response', (response) => {
    if (response.url().includes('/api/') && response.status() !== 200) {
      trail.push(`${stamp()} HTTP ${response.status()} from ${response.url()}`);
    }
  });
  page.on('requestfailed', (request) => {
    trail.push(`${stamp()} request failed: ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`);
  });
  page.on('crash', () => trail.push(`${stamp()} the tab crashed`));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      const where = message.location();
      problems.push(`console error at ${page.url()}: ${message.text()} (${where.url}:${where.lineNumber})`);
    }
  });
  page.on('pageerror', (error) => problems.push(`uncaught exception at ${page.url()}: ${error.message}`));
  // The tests accept every dialog, such as a confirmation before a cancel.
  page.on('dialog', (dialog) => dialog.accept());
  return { page, problems, trail };
}

// Signs in through the sign-in page and waits until the application shell shows.
export async function signIn(page, stack, user) {
  await page.goto(`${stack.url}/signin`);
  await page.getByLabel(/user ?name/i).fill(user.username);
  await page.getByLabel(/password/i).fill(user.password);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

// Calls a gateway method as `token` and returns the parsed reply. Throws on any status but 200.
export async function callApi(stack, token, service, method, body = {}) {
  const response = await fetch(`${stack.url}/api/${service}/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`${service}/${method} returned HTTP ${response.status}: ${text}`);
  }
  return JSON.parse(text);
}

// Signs `user` in through the API and returns the session token.
export async function apiToken(stack, user) {
  const reply = await callApi(stack, '', 'ailab.identity.v1.IdentityService', 'SignIn', {
    username: user.username,
    password: user.password,
  });
  return reply.token;
}

// Saves a full-page screenshot as OUT_DIR/screenshots/<name>.png.
export async function saveScreenshot(page, name) {
  const folder = path.join(process.env.OUT_DIR || os.tmpdir(), 'screenshots');
  fs.mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
}

// Counts the performance marks named `name` that the page has set so far.
export function countMarks(page, name) {
  return page.evaluate((markName) => performance.getEntriesByName(markName, 'mark').length, name);
}

// Waits until the page has set more than `count` marks named `name`.
export async function waitForMarks(page, name, count, timeout = 15000) {
  await page.waitForFunction(
    ([markName, seen]) => performance.getEntriesByName(markName, 'mark').length > seen,
    [name, count],
    { timeout },
  );
}

// Picks `value` in the <select> labelled `label` (a RegExp), by value, by the last
// segment of a resource name, or by visible text. Options that load later are waited for
// up to `timeout` ms.
export async function selectOption(page, label, value, timeout = 15000) {
  const select = page.getByLabel(label).and(page.locator('select')).first();
  await select.waitFor({ timeout });
  const id = value.split('/').pop();
  const deadline = Date.now() + timeout;
  for (;;) {
    const options = await select.locator('option').evaluateAll((elements) =>
      elements.map((option) => ({ value: option.value, text: option.textContent ?? '' })),
    );
    const match = options.find((option) => option.value === value)
      ?? options.find((option) => option.value.endsWith(`/${id}`))
      ?? options.find((option) => option.text.includes(id));
    if (match) {
      await select.selectOption(match.value);
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`select ${label} has no option ${value} after ${timeout} ms; options: ${JSON.stringify(options)}`);
    }
    await page.waitForTimeout(200);
  }
}
