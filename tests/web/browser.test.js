// Browser tests of the web application against a stack from tests/web/stack.sh (see
// run.sh). Each test opens its own tab and signs in again, so the tests do not depend
// on each other's order. The stack seeds rad1 with labels on all but 15 images of the
// dataset and two trained models.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  apiToken,
  callApi,
  countMarks,
  launchBrowser,
  loadStack,
  openPage,
  saveScreenshot,
  selectOption,
  signIn,
  waitForMarks,
} from './lib.js';

const ANNOTATION = 'ailab.annotation.v1.AnnotationService';
const TRAINING = 'ailab.training.v1.TrainingService';
const stack = loadStack();
const rad1 = stack.users.rad1;
let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

// Opens a signed-in tab for `user`; returns the page and its recorded problems.
async function signedInPage(user) {
  const tab = await openPage(browser.context);
  await signIn(tab.page, stack, user);
  return tab;
}

// Fails with every uncaught exception a tab recorded (console errors are checked in
// the page tour, where each page is loaded on its own).
function assertNoExceptions(problems) {
  const exceptions = problems.filter((problem) => problem.startsWith('uncaught exception'));
  assert.deepEqual(exceptions, [], `uncaught exceptions:\n${exceptions.join('\n')}`);
}

// Picks the seeded use case and dataset on pages that ask for them.
async function pickUseCaseAndDataset(page) {
  await selectOption(page, /use case/i, stack.useCase);
  await selectOption(page, /dataset/i, stack.dataset);
}

test('sign-in rejects a wrong password and accepts the right one', async () => {
  const { page, problems } = await openPage(browser.context);
  await page.goto(`${stack.url}/signin`);
  await page.getByLabel(/user ?name/i).fill(rad1.username);
  await page.getByLabel(/password/i).fill(`${rad1.password}-wrong`);
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.getByRole('alert').first().waitFor();
  assert.match(page.url(), /\/signin/);

  await signIn(page, stack, rad1);
  const user = page.getByLabel('Signed-in user');
  assert.match(await user.innerText(), /rad1/i);
  assertNoExceptions(problems);
  await page.close();
});

test('annotate five images with only the keyboard', async () => {
  const token = await apiToken(stack, rad1);
  const progressRequest = { useCase: stack.useCase, dataset: stack.dataset, annotator: rad1.id };
  const before = await callApi(stack, token, ANNOTATION, 'GetAnnotationProgress', progressRequest);

  const { page, problems } = await signedInPage(rad1);
  await page.goto(`${stack.url}/annotate`);
  await pickUseCaseAndDataset(page);
  const canvas = page.getByTestId('viewer-canvas');
  await canvas.waitFor();
  await waitForMarks(page, 'ailab:first-image', 0);
  await saveScreenshot(page, 'annotate-viewer');
  // The page ignores keys typed into a form control, so move the focus off the selects.
  await canvas.click();

  const categories = ['1', '2', '3', '4', '2'];
  for (const key of categories) {
    const drawn = await countMarks(page, 'ailab:image-drawn');
    await page.keyboard.press(key);
    await page.keyboard.press('Enter');
    await waitForMarks(page, 'ailab:image-drawn', drawn);
  }

  const afterSaves = await callApi(stack, token, ANNOTATION, 'GetAnnotationProgress', progressRequest);
  assert.equal(Number(afterSaves.annotatedCount), Number(before.annotatedCount) + 5,
    `annotated count before ${before.annotatedCount}, after ${afterSaves.annotatedCount}`);
  const measures = await page.evaluate(() =>
    performance.getEntriesByName('ailab:save-to-next', 'measure').map((entry) => entry.duration));
  assert.equal(measures.length, 5, `save-to-next measures: ${JSON.stringify(measures)}`);
  assertNoExceptions(problems);
  await page.close();
});

test('train page starts a job and shows its progress', async () => {
  const { page, problems } = await signedInPage(rad1);
  await page.goto(`${stack.url}/train`);
  await pickUseCaseAndDataset(page);
  // The stack's worker has no pretrained weights, so the job starts from random ones.
  await selectOption(page, /initiali[sz]ation/i, 'random');
  await page.getByLabel(/max(imum)? epochs/i).first().fill('1');
  await page.getByLabel(/(input|image) size/i).first().fill('64');
  const created = page.waitForResponse((response) => response.url().endsWith('/CreateTrainingJob'));
  await page.getByTestId('train-submit').click();
  const response = await created;
  assert.equal(response.status(), 200, `CreateTrainingJob returned ${response.status()}: ${await response.text()}`);
  const job = await response.json();
  const id = job.name.split('/').pop();

  await page.getByTestId(`job-row-${id}`).waitFor();
  const progress = page.getByTestId(`job-progress-${id}`);
  await progress.waitFor();
  // The progress cell shows losses once the worker has reported an epoch. The page
  // updates it by itself (event stream or polling), without a reload.
  const row = await page.waitForFunction(
    (testId) => {
      const text = document.querySelector(`[data-testid="${testId}"]`)?.textContent ?? '';
      return /train loss|failed|cancelled/i.test(text) ? text : null;
    },
    `job-row-${id}`,
    { timeout: 240000 },
  );
  const rowText = await row.jsonValue();
  assert.match(rowText, /train loss/i, `job ${id} shows no progress: ${rowText}`);
  await saveScreenshot(page, 'train-progress');
  assertNoExceptions(problems);
  await page.close();
});

test('train page cancels a queued or running job', async () => {
  const token = await apiToken(stack, rad1);
  const job = await callApi(stack, token, TRAINING, 'CreateTrainingJob', {
    trainingJob: {
      displayName: 'Job the browser test cancels',
      useCase: stack.useCase,
      dataset: stack.dataset,
      labelSource: rad1.id,
      options: { architecture: 'resnet18', imageSize: 64, maxEpochs: 50, batchSize: 16, learningRate: 0.001 },
    },
  });
  const id = job.name.split('/').pop();

  const { page, problems } = await signedInPage(rad1);
  await page.goto(`${stack.url}/train`);
  await page.getByTestId(`job-cancel-${id}`).click();
  await page.waitForFunction(
    (testId) => /CANCELL(ING|ED)/i.test(document.querySelector(`[data-testid="${testId}"]`)?.textContent ?? ''),
    `job-row-${id}`,
    { timeout: 30000 },
  );
  const state = (await callApi(stack, token, TRAINING, 'GetTrainingJob', { name: job.name })).state;
  assert.match(state, /^CANCELL(ING|ED)$/);
  assertNoExceptions(problems);
  await page.close();
});

test('evaluate page compares two models and moves the operating point', async () => {
  assert.ok(stack.binaryModels.length >= 2,
    `the stack has ${stack.binaryModels.length} binary models; start it with AILAB_STACK_SEED=full`);
  const { page, problems, trail } = await signedInPage(rad1);
  await page.goto(`${stack.url}/evaluate`);
  await selectOption(page, /use case/i, stack.binaryUseCase);
  await selectOption(page, /dataset/i, stack.dataset);
  for (const model of stack.binaryModels) {
    await page.getByTestId(`model-pick-${model.split('/').pop()}`).check();
  }
  await page.getByTestId('evaluate-submit').click();

  const roc = page.getByTestId('roc-chart');
  try {
    await roc.waitFor({ timeout: 120000 });
  } catch (error) {
    // What the page showed instead, for the failure message and a screenshot.
    await saveScreenshot(page, 'evaluate-failure');
    const pageText = await page
      .locator('body')
      .innerText({ timeout: 5000 })
      .catch((reason) => `(no text: ${reason.message})`);
    throw new Error(
      `no ROC chart after 120 s at ${page.url()}; the page shows:\n${pageText}\n` +
        `page problems:\n${problems.join('\n') || '(none)'}\n` +
        `navigations and failed requests:\n${trail.join('\n') || '(none)'}`,
      { cause: error },
    );
  }
  const sensitivity = page.getByTestId('metric-sensitivity').first();
  const specificity = page.getByTestId('metric-specificity').first();
  await sensitivity.waitFor({ timeout: 120000 });
  await page.getByTestId('confusion-heatmap').first().waitFor();
  const before = [await sensitivity.innerText(), await specificity.innerText()];

  const slider = page.getByTestId('threshold-slider');
  const range = await slider.evaluate((element) => ({ min: Number(element.min || 0), max: Number(element.max || 1) }));
  let changed = false;
  for (const fraction of [0.05, 0.95, 0.3, 0.7]) {
    await slider.fill(String(range.min + fraction * (range.max - range.min)));
    try {
      await page.waitForFunction(
        ([text]) => {
          const values = ['metric-sensitivity', 'metric-specificity'].map(
            (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '');
          return values.join('|') !== text;
        },
        [before.join('|')],
        { timeout: 5000 },
      );
      changed = true;
      break;
    } catch {
      // This threshold gives the same operating point; try the next one.
    }
  }
  assert.ok(changed, `sensitivity and specificity stayed at ${before.join(' and ')} for every threshold`);
  await saveScreenshot(page, 'evaluate-roc');
  assertNoExceptions(problems);
  await page.close();
});

test('run page predicts an uploaded DICOM file', async () => {
  const sourceDir = process.env.AILAB_SOURCE_DIR ?? path.resolve(import.meta.dirname, '../..');
  // A full 2.8 MB mammogram: Predict carries it base64-encoded in the JSON body, which
  // the gateway accepts up to --max_file_body_bytes for this method.
  const file = path.join(sourceDir, '..', 'shared', 'data', 'dicom', 'mg', 'MG1_JPLY.dcm');
  assert.ok(fs.existsSync(file), `missing test image ${file}`);

  const { page, problems } = await signedInPage(rad1);
  await page.goto(`${stack.url}/run`);
  await selectOption(page, /use case/i, stack.useCase);
  await selectOption(page, /model/i, stack.models[0]);
  await page.getByLabel(/DICOM or PNG file/i).check();
  await page.locator('input[type="file"]').first().setInputFiles(file);
  const predicted = page.waitForResponse((response) => response.url().endsWith('/Predict'));
  await page.getByRole('button', { name: /run the model|predict/i }).click();
  const response = await predicted;
  assert.equal(response.status(), 200, `Predict returned ${response.status()}: ${await response.text()}`);
  const prediction = await response.json();
  assert.match(prediction.category ?? '', /^[ABCD]$/, `Predict reply: ${JSON.stringify(prediction)}`);
  const categoryText = page.getByLabel('Predicted category');
  await categoryText.waitFor();
  assert.match(await categoryText.innerText(), new RegExp(`\\b${prediction.category}\\b`));
  const report = await page.getByLabel('Report text').innerText();
  assert.ok(report.trim().length > 0, 'the report text is empty');
  await saveScreenshot(page, 'run-prediction');
  assertNoExceptions(problems);
  await page.close();
});

test('user text comes back verbatim and is shown as text, never run', async () => {
  const { page, problems } = await signedInPage(rad1);
  const marker = `xss-${Date.now()}`;
  const text = `<img src=x onerror="window.__ailabXss='${marker}'"> <script>window.__ailabXss='${marker}'</script> '; DROP TABLE comments;-- ${marker}`;
  await page.goto(`${stack.url}/define`);
  await page.locator('tr.selectable', { hasText: /breast density/i }).first().click();
  const box = page.getByLabel('Your comment');
  await box.fill(text);
  await page.getByRole('button', { name: /post comment/i }).click();

  // The page shows the comment as the very text typed, and none of it ran.
  const shown = page.locator('.comments .pre-text', { hasText: marker }).first();
  await shown.waitFor({ timeout: 15000 });
  assert.equal(await shown.innerText(), text);
  assert.equal(await shown.locator('img, script').count(), 0);
  assert.equal(await page.evaluate(() => window.__ailabXss), undefined);

  // The API returns it verbatim, as JSON.
  const token = await apiToken(stack, rad1);
  const listed = await callApi(stack, token, 'ailab.catalog.v1.CatalogService', 'ListComments', {
    parent: stack.useCase, pageSize: 1000,
  });
  assert.ok(listed.comments.some((comment) => comment.text === text), 'the comment is not stored verbatim');
  assertNoExceptions(problems);
  await page.close();
});

test('a participant gets no per-image reference labels from any call', async () => {
  const participant = stack.users.part1;
  const token = await apiToken(stack, participant);
  const instancePrefix = `${stack.dataset}/instances/`;
  const post = async (service, method, body) => {
    const response = await fetch(`${stack.url}/api/${service}/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };
  const useCase = stack.useCase;
  const dataset = stack.dataset;
  // Every call that could carry an image's label, with the answer a participant must get.
  const calls = [
    [ANNOTATION, 'ListAnnotations', { useCase, dataset, annotator: 'reference' }, 403],
    [ANNOTATION, 'GetAnnotationProgress', { useCase, dataset, annotator: 'reference' }, 403],
    [ANNOTATION, 'GetAgreement', { useCase, dataset, annotator: participant.id }, 403],
    [ANNOTATION, 'GetReferenceReader', { useCase, dataset }, 403],
    [ANNOTATION, 'CountLabels', { useCase, dataset }, 403],
    [ANNOTATION, 'ExportLabels', { useCase, dataset }, 404],
    [ANNOTATION, 'ScoreAgainstReference', { useCase, dataset }, 404],
    ['ailab.ingest.v1.IngestService', 'ListInstances', { parent: dataset }, 403],
    [TRAINING, 'ListTestPredictions', { parent: stack.models[0] }, 403],
    ['ailab.inference.v1.InferenceService', 'ListPredictions', {}, 403],
    ['ailab.evaluation.v1.EvaluationService', 'ListEvaluations', {}, 403],
  ];
  for (const [service, method, body, expected] of calls) {
    const reply = await post(service, method, body);
    assert.equal(reply.status, expected, `${method} gave HTTP ${reply.status}: ${reply.text}`);
    assert.ok(!reply.text.includes(instancePrefix), `${method} named an image: ${reply.text}`);
  }
  // What a participant may read: challenges, leaderboards, contests, rankings.
  const challenges = await post('ailab.evaluation.v1.EvaluationService', 'ListChallenges', {});
  assert.equal(challenges.status, 200, challenges.text);
  const readable = [challenges];
  for (const challenge of JSON.parse(challenges.text).challenges ?? []) {
    readable.push(await post('ailab.evaluation.v1.EvaluationService', 'ListLeaderboardEntries', {
      parent: challenge.name,
    }));
  }
  readable.push(await post(ANNOTATION, 'ListContests', {}));
  for (const reply of readable) {
    assert.ok(!reply.text.includes(instancePrefix), `a participant's reply named an image: ${reply.text}`);
  }
  // The display names for the user ids that leaderboards and rankings show, in the order
  // asked, without the id that names no account.
  const names = await post('ailab.identity.v1.IdentityService', 'LookupUsers', {
    userIds: [rad1.id, 'nobody', participant.id],
  });
  assert.equal(names.status, 200, names.text);
  const users = JSON.parse(names.text).users ?? [];
  assert.deepEqual(users.map((user) => user.displayName), ['RAD1', 'PART1']);
  assert.deepEqual(users.map((user) => user.name), [`users/${rad1.id}`, `users/${participant.id}`]);
});

test('rankings show display names, not user ids', async () => {
  const {page, problems} = await signedInPage(rad1);
  await page.goto(`${stack.url}/contest`);
  await pickUseCaseAndDataset(page);
  const rankings = page.getByTestId('annotator-rankings');
  // rad1 labelled the seeded dataset; the stack gave each account its user name in
  // capitals as display name.
  await rankings.getByText('RAD1 (you)').waitFor({timeout: 15000});
  assert.ok(!(await rankings.innerText()).includes(rad1.id), 'the ranking shows a user id');
  assertNoExceptions(problems);
  await page.close();
});

test('every page renders without console errors', async () => {
  const admin = stack.users.admin;
  const signInTab = await openPage(browser.context);
  await signInTab.page.goto(`${stack.url}/signin`);
  await signInTab.page.getByLabel(/password/i).waitFor();
  await saveScreenshot(signInTab.page, 'signin');
  assert.deepEqual(signInTab.problems, [], signInTab.problems.join('\n'));
  await signInTab.page.close();

  const { page, problems } = await signedInPage(admin);
  const links = await page.getByRole('navigation', { name: 'Main' }).locator('a').evaluateAll((anchors) =>
    anchors.map((anchor) => new URL(anchor.href).pathname));
  assert.ok(links.length >= 8, `the navigation shows ${links.length} pages: ${links.join(', ')}`);
  const failures = [];
  for (const link of links) {
    problems.length = 0;
    await page.goto(`${stack.url}${link}`);
    await page.waitForLoadState('networkidle');
    const name = link.replace(/^\//, '').replace(/[^A-Za-z0-9]+/g, '-') || 'home';
    await saveScreenshot(page, name);
    if (problems.length > 0) failures.push(`${link}:\n  ${problems.join('\n  ')}`);
  }
  assert.deepEqual(failures, [], `pages with console errors:\n${failures.join('\n')}`);
  await page.close();
});
