// Annotate page timings in Debian's Chromium against a stack from tests/web/stack.sh.
//   first image   from the navigation to /annotate until the 'ailab:first-image' mark
//   save to next  the web app's 'ailab:save-to-next' measures, from Enter until the
//                 next image is drawn
// The anchors are measured in the same tab on the same stack.
//   PNG floor     one PNG rendering fetched from /api/blobs and drawn on a canvas
//   request floor the requests the page makes for one save, as plain fetch() calls
//                 without rendering: SaveAnnotation, GetNextInstance, GetInstance and
//                 the next array blob
// Prints "FIGURE <name> <value>" lines (milliseconds).
//
//   AILAB_STACK_JSON=.../stack.json node annotate_timing.js [--saves=20] [--loads=3]
import {
  apiToken,
  callApi,
  countMarks,
  launchBrowser,
  loadStack,
  openPage,
  signIn,
  waitForMarks,
} from '../../web/lib.js';

const options = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')));
const saves = Number(options.saves ?? 20);
const loads = Number(options.loads ?? 3);
const stack = loadStack();
// rad2 has no labels in the seeded dataset, so every image is still to do.
const user = stack.users.rad2;

function percentile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

function figure(name, value) {
  console.log(`FIGURE ${name} ${value.toFixed(3)}`);
}

const browser = await launchBrowser();
try {
  const { page } = await openPage(browser.context);
  await signIn(page, stack, user);

  // Navigation to the first image drawn, from the start of each page load. The use case
  // and dataset come in the address, as in a bookmark.
  const firstImage = [];
  for (let load = 0; load < loads; load += 1) {
    const query = new URLSearchParams({ useCase: stack.useCase, dataset: stack.dataset });
    await page.goto(`${stack.url}/annotate?${query}`);
    await waitForMarks(page, 'ailab:first-image', 0, 30000);
    firstImage.push(await page.evaluate(() => performance.getEntriesByName('ailab:first-image', 'mark')[0].startTime));
  }

  // Save to next image, through the keyboard as a reader works.
  await page.getByTestId('viewer-canvas').click();
  for (let save = 0; save < saves; save += 1) {
    const drawn = await countMarks(page, 'ailab:image-drawn');
    await page.keyboard.press(String((save % 4) + 1));
    await page.keyboard.press('Enter');
    await waitForMarks(page, 'ailab:image-drawn', drawn, 30000);
  }
  const saveToNext = await page.evaluate(() =>
    performance.getEntriesByName('ailab:save-to-next', 'measure').map((entry) => entry.duration));
  if (saveToNext.length === 0) throw new Error('the page set no ailab:save-to-next measures');

  // Anchors: the same requests as plain fetch() calls in the same tab.
  const token = await apiToken(stack, user);
  const next = await callApi(stack, token, 'ailab.annotation.v1.AnnotationService', 'GetNextInstance',
    { useCase: stack.useCase, dataset: stack.dataset, annotator: user.id });
  const instance = await callApi(stack, token, 'ailab.ingest.v1.IngestService', 'GetInstance', { name: next.instance });
  const anchors = await page.evaluate(async ({ token, useCase, dataset, annotator, pngBlob, rounds }) => {
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    const post = async (service, method, body) => {
      const response = await fetch(`/api/${service}/${method}`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`${method} returned ${response.status}: ${await response.text()}`);
      return response.json();
    };
    const pngTimes = [];
    for (let round = 0; round < rounds; round += 1) {
      const start = performance.now();
      const blob = await (await fetch(`/api/blobs/${pngBlob}`, { headers, cache: 'no-store' })).blob();
      const bitmap = await createImageBitmap(blob);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      canvas.getContext('2d').drawImage(bitmap, 0, 0);
      pngTimes.push(performance.now() - start);
    }
    const saveTimes = [];
    for (let round = 0; round < rounds; round += 1) {
      // The first GetNextInstance finds the current instance, which the page already has, so it is not timed.
      const current = await post('ailab.annotation.v1.AnnotationService', 'GetNextInstance', { useCase, dataset, annotator });
      if (current.done) break;
      const start = performance.now();
      await post('ailab.annotation.v1.AnnotationService', 'SaveAnnotation',
        { useCase, dataset, instance: current.instance, annotator, label: 'B' });
      const following = await post('ailab.annotation.v1.AnnotationService', 'GetNextInstance', { useCase, dataset, annotator });
      if (!following.done) {
        const details = await post('ailab.ingest.v1.IngestService', 'GetInstance', { name: following.instance });
        const blob = details.arrayBlob || details.pngBlob;
        await (await fetch(`/api/blobs/${blob}`, { headers, cache: 'no-store' })).arrayBuffer();
      }
      saveTimes.push(performance.now() - start);
    }
    return { pngTimes, saveTimes };
  }, { token, useCase: stack.useCase, dataset: stack.dataset, annotator: user.id, pngBlob: instance.pngBlob, rounds: saves });

  figure('first_image_median_ms', percentile(firstImage, 0.5));
  figure('first_image_max_ms', Math.max(...firstImage));
  figure('save_to_next_median_ms', percentile(saveToNext, 0.5));
  figure('save_to_next_p95_ms', percentile(saveToNext, 0.95));
  figure('save_to_next_count', saveToNext.length);
  figure('anchor_png_fetch_draw_median_ms', percentile(anchors.pngTimes, 0.5));
  figure('anchor_save_requests_median_ms', percentile(anchors.saveTimes, 0.5));
} finally {
  await browser.close();
}
