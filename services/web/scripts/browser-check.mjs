// Drives headless Chromium through the DevTools protocol to check the web application
// end to end: sign in, open the Annotate page, label images with the keyboard, and
// print the viewer's timings (performance marks and measures the page records).
// Exits non-zero when a step fails or the page logs an uncaught error.
//
//   node --experimental-websocket scripts/browser-check.mjs \
//     --base=http://127.0.0.1:48080 --user=demo --password=x \
//     --use-case=useCases/breast-density --dataset=datasets/demo --saves=10 \
//     [--key=2] [--screenshot=annotate.png] [--eval=EXPRESSION] [--visit-all] [--skip-annotate]
//     [--upload=FILE,FILE,...]
//
// Needs Node 20 with --experimental-websocket (Node 22 has WebSocket built in) and a
// Chromium binary (CHROMIUM, else "chromium" on PATH).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const [key, ...rest] = arg.replace(/^--/, '').split('=');
    return [key, rest.join('=')];
  }),
);
const base = args.base ?? 'http://127.0.0.1:48080';
const username = args.user ?? 'demo';
const password = args.password ?? 'not-a-real-password';
const useCase = args['use-case'] ?? 'useCases/breast-density';
const dataset = args.dataset ?? 'datasets/demo';
const saves = Number(args.saves ?? 10);
const categoryKey = args.key ?? '2';
const stepTimeoutMs = Number(args['timeout-ms'] ?? 20000);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function launch() {
  const profile = await mkdtemp(join(tmpdir(), 'ailab-web-check-'));
  const browser = spawn(
    process.env.CHROMIUM ?? 'chromium',
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      '--window-size=1400,1000',
      'about:blank',
    ],
    { stdio: 'ignore' },
  );
  let port = '';
  for (let attempt = 0; attempt < 100 && !port; attempt++) {
    await sleep(100);
    port = (await readFile(join(profile, 'DevToolsActivePort'), 'utf8').catch(() => '')).split('\n')[0];
  }
  if (!port) throw new Error('Chromium did not open its DevTools port within 10 s');
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const page = targets.find((target) => target.type === 'page');
  const stop = async () => {
    browser.kill('SIGTERM');
    await sleep(300);
    await rm(profile, { recursive: true, force: true });
  };
  return { wsUrl: page.webSocketDebuggerUrl, stop };
}

function connect(wsUrl) {
  const socket = new WebSocket(wsUrl);
  let nextId = 1;
  const pending = new Map();
  const listeners = [];
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(`${message.error.message} (${message.error.code})`));
      else resolve(message.result);
    } else if (message.method) {
      for (const listener of listeners) listener(message);
    }
  });
  const opened = new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', reject);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { opened, send, on: (listener) => listeners.push(listener), close: () => socket.close() };
}

async function main() {
  const { wsUrl, stop } = await launch();
  const cdp = connect(wsUrl);
  await cdp.opened;
  const problems = [];
  cdp.on((message) => {
    if (message.method === 'Runtime.exceptionThrown') {
      problems.push(`uncaught: ${message.params.exceptionDetails.exception?.description ?? message.params.exceptionDetails.text}`);
    }
    if (message.method === 'Runtime.consoleAPICalled' && message.params.type === 'error') {
      problems.push(`console.error: ${message.params.args.map((arg) => arg.value ?? arg.description).join(' ')}`);
    }
  });
  await cdp.send('Page.enable');
  await cdp.send('Runtime.enable');

  const evaluate = async (expression) => {
    const result = await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (result.exceptionDetails) throw new Error(`page script failed: ${result.exceptionDetails.text}`);
    return result.result.value;
  };
  const waitFor = async (description, expression) => {
    const deadline = Date.now() + stepTimeoutMs;
    while (Date.now() < deadline) {
      if (await evaluate(expression)) return;
      await sleep(50);
    }
    const text = await evaluate('document.body.innerText.slice(0, 600)');
    throw new Error(`timed out after ${stepTimeoutMs} ms waiting for ${description}; the page shows: ${text}`);
  };
  const press = async (key) => {
    const code = /^[0-9]$/.test(key) ? `Digit${key}` : key;
    let text;
    if (key === 'Enter') text = '\r';
    else if (key.length === 1) text = key;
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key, code, text, windowsVirtualKeyCode: key === 'Enter' ? 13 : key.toUpperCase().charCodeAt(0) });
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key, code });
  };
  // React tracks input values itself, so the value is set through the native setter
  // and announced with an input event.
  const fill = (selector, value) =>
    evaluate(`(() => {
      const input = document.querySelector(${JSON.stringify(selector)});
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
      setter.call(input, ${JSON.stringify(value)});
      input.dispatchEvent(new Event('input', { bubbles: true }));
      return true;
    })()`);

  async function checkAnnotate() {
    // A client-side navigation, as a user clicking the link would make.
    const query = new URLSearchParams({ useCase, dataset }).toString();
    await evaluate(`performance.mark('check:navigate'), history.pushState({}, '', '/annotate?${query}'), dispatchEvent(new PopStateEvent('popstate')), true`);
    await waitFor('the first image', `performance.getEntriesByName('ailab:first-image').length > 0`);
    const firstImage = await evaluate(
      `performance.getEntriesByName('ailab:first-image')[0].startTime - performance.getEntriesByName('check:navigate')[0].startTime`,
    );
    console.log(`first image drawn ${firstImage.toFixed(1)} ms after navigating to the Annotate page`);

    // The use case (and so its category buttons) may arrive after the first image.
    await waitFor('the category buttons', `!!document.querySelector('[data-testid^="category-"]')`);
    for (let index = 0; index < saves; index++) {
      await press(categoryKey);
      await waitFor('the category to be selected', `document.querySelector('[data-testid^="category-"][aria-pressed="true"]') !== null`);
      await press('Enter');
      await waitFor(`save ${index + 1}`, `performance.getEntriesByName('ailab:save-to-next').length >= ${index + 1} || /Every image/.test(document.body.innerText)`);
    }
    const durations = await evaluate(`performance.getEntriesByName('ailab:save-to-next').map((entry) => entry.duration)`);
    if (durations.length > 0) {
      const sorted = [...durations].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      console.log(`save to next image drawn: n=${durations.length} median=${median.toFixed(1)} ms max=${sorted[sorted.length - 1].toFixed(1)} ms`);
    }
    const progress = await evaluate(`document.querySelector('[role=progressbar][aria-label=Annotated]')?.getAttribute('aria-valuenow') ?? ''`);
    console.log(`annotated count shown: ${progress}`);
    await press('s');
    await sleep(500);
    const skipped = await evaluate(`[...document.querySelectorAll('section h2')].map((h) => h.textContent).filter((t) => t.startsWith('Skipped')).join('')`);
    console.log(`after S: ${skipped}`);
  }

  try {
    await cdp.send('Page.navigate', { url: `${base}/signin` });
    await waitFor('the sign-in form', `!!document.querySelector('input[name=username]')`);
    await fill('input[name=username]', username);
    await fill('input[name=password]', password);
    await evaluate(`document.querySelector('form[aria-label="Sign in"] button[type=submit]').click(), true`);
    await waitFor('the navigation after sign-in', `!!document.querySelector('nav[aria-label=Main]')`);
    const navigation = await evaluate(`[...document.querySelectorAll('nav[aria-label=Main] a')].map((a) => a.textContent).join(', ')`);
    console.log(`signed in; navigation: ${navigation}`);

    if (args['skip-annotate'] === undefined) await checkAnnotate();
    // Opens every page of the navigation; each must render its heading.
    if (args['visit-all'] !== undefined) {
      const links = await evaluate(`[...document.querySelectorAll('nav[aria-label=Main] a')].map((a) => a.getAttribute('href'))`);
      for (const href of links) {
        await evaluate(`history.pushState({}, '', ${JSON.stringify(href)}), dispatchEvent(new PopStateEvent('popstate')), true`);
        await waitFor(`the heading of ${href}`, `!!document.querySelector('main h1')`);
        await sleep(300);
        const banners = await evaluate(`[...document.querySelectorAll('[role=alert]')].map((e) => e.innerText.replace(/\\s+/g, ' ').slice(0, 120))`);
        console.log(`${href}: ${await evaluate(`document.querySelector('main h1').textContent`)}${banners.length ? ` (errors shown: ${banners.join(' | ')})` : ''}`);
      }
    }
    // Uploads the given files on the Data page, one of which may fail, and waits
    // until each file has a result.
    if (args.upload) {
      const files = args.upload.split(',');
      await evaluate(`history.pushState({}, '', '/data'), dispatchEvent(new PopStateEvent('popstate')), true`);
      await waitFor('the datasets', `!!document.querySelector('tbody tr.selectable')`);
      await evaluate(`document.querySelector('tbody tr.selectable').click(), true`);
      await waitFor('the upload field', `!!document.querySelector('input[type=file]')`);
      const input = await cdp.send('Runtime.evaluate', { expression: `document.querySelector('input[type=file]')` });
      await cdp.send('DOM.setFileInputFiles', { files, objectId: input.result.objectId });
      await waitFor('every upload result', `new RegExp('${files.length} of ${files.length} files processed').test(document.body.innerText)`);
      const summary = await evaluate(`[...document.querySelectorAll('p')].map((p) => p.textContent).find((t) => t.includes('files processed'))`);
      console.log(`upload: ${summary}`);
    }
    if (args.eval) console.log(`eval: ${JSON.stringify(await evaluate(args.eval))}`);
    if (args.screenshot) {
      const shot = await cdp.send('Page.captureScreenshot', { format: 'png' });
      await writeFile(args.screenshot, Buffer.from(shot.data, 'base64'));
      console.log(`screenshot written to ${args.screenshot}`);
    }
  } finally {
    cdp.close();
    await stop();
  }
  if (problems.length > 0) {
    console.error(`the page reported errors:\n${problems.join('\n')}`);
    process.exit(1);
  }
  console.log('browser check passed');
}

main().catch((error) => {
  console.error(`browser check failed: ${error.message}`);
  process.exit(1);
});
