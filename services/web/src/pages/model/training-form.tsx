// The form that creates a training job: data, every TrainingOptions setting with a
// short explanation, and the label-count check that runs before submitting.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import {
  ANNOTATION,
  call,
  INGEST,
  TRAINING,
  type Dataset,
  type ListPreparationRunsResponse,
  type TrainingJob,
  type TrainingOptions,
  type UseCase,
} from '../../api';
import { useSession } from '../../session';
import { BODY_AREAS, MODALITIES } from '../../types';
import { Button, enumLabel, ErrorBanner, Field, Notice, Section, Select, toCount } from '../../ui';
import { displayName } from './format';
import { DatasetSelect, UseCaseSelect } from './resources';
import type { CountLabelsResponse } from './types';

/** Labelled instances a training job needs, as CreateTrainingJob checks. */
export const MIN_TRAINING_LABELS = 100;
/** Labels of each class that equal sampling needs, as CreateTrainingJob checks. */
export const MIN_LABELS_PER_CLASS_FOR_EQUAL_SAMPLING = 10;

const ARCHITECTURES = [
  { value: 'resnet18', label: 'ResNet-18' },
  { value: 'resnet34', label: 'ResNet-34' },
  { value: 'resnet50', label: 'ResNet-50' },
  { value: 'vgg11_bn', label: 'VGG-11 with batch normalisation' },
  { value: 'vgg16_bn', label: 'VGG-16 with batch normalisation' },
  { value: 'inception_v3', label: 'Inception v3' },
  { value: 'densenet121', label: 'DenseNet-121' },
];
const AUGMENTATIONS = [
  { value: 'none', label: 'None' },
  { value: 'flip_rotate', label: 'Random flips, rotations and small scaling' },
];
const SAMPLINGS = [
  { value: 'random', label: 'Random' },
  { value: 'equal', label: 'Equal class ratios' },
  { value: 'positives_only', label: 'Positives only (binary use cases)' },
];
const LOSSES = [
  { value: 'cross_entropy', label: 'Categorical cross-entropy' },
  { value: 'mae', label: 'Mean absolute error' },
  { value: 'mse', label: 'Mean squared error' },
  { value: 'focal', label: 'Sigmoid focal loss' },
];
const OPTIMIZERS = [
  { value: 'adam', label: 'Adam' },
  { value: 'sgd', label: 'Stochastic gradient descent' },
];
const METRICS = [
  { value: 'linear_kappa', label: 'Linear-weighted kappa' },
  { value: 'kappa', label: "Cohen's kappa" },
  { value: 'auc', label: 'AUC' },
  { value: 'val_loss', label: 'Validation loss' },
];
const INITIALISATIONS = [
  { value: 'pretrained', label: 'Pretrained ImageNet weights' },
  { value: 'random', label: 'Random initialisation' },
];

/** Label source choices; "annotator" uses the user id typed into the form. */
type LabelSourceKind = 'consensus' | 'mine' | 'annotator';

/** Form state. Numbers stay text so that an empty field means the service's default. */
interface FormState {
  displayName: string;
  jobId: string;
  bodyArea: string;
  modality: string;
  useCase: string;
  dataset: string;
  labelSourceKind: LabelSourceKind;
  annotator: string;
  architecture: string;
  imageSize: string;
  augmentation: string;
  sampling: string;
  loss: string;
  initialisation: string;
  batchSize: string;
  learningRate: string;
  optimizer: string;
  metric: string;
  earlyStoppingPatience: string;
  minImprovement: string;
  maxEpochs: string;
  seed: string;
  gpuCount: string;
  memoryMb: string;
}

const INITIAL_FORM: FormState = {
  displayName: '',
  jobId: '',
  bodyArea: '',
  modality: '',
  useCase: '',
  dataset: '',
  labelSourceKind: 'consensus',
  annotator: '',
  architecture: 'resnet18',
  imageSize: '',
  augmentation: 'none',
  sampling: 'random',
  loss: 'cross_entropy',
  initialisation: 'random',
  batchSize: '16',
  learningRate: '0.001',
  optimizer: 'adam',
  metric: 'linear_kappa',
  earlyStoppingPatience: '3',
  minImprovement: '0.0001',
  maxEpochs: '10',
  seed: '',
  gpuCount: '',
  memoryMb: '',
};

/** Result of the label-count check of the form. */
export interface LabelCheck {
  blocked: boolean;
  reasons: string[];
}

/**
 * Applies CreateTrainingJob's rules to the counts of CountLabels: at least
 * MIN_TRAINING_LABELS in all, and with equal sampling at least
 * MIN_LABELS_PER_CLASS_FOR_EQUAL_SAMPLING per class. Positives-only sampling needs a
 * binary use case. The service counts only instances with prepared arrays, and for
 * equal sampling only the training split, so it may still reject a job that passes.
 */
export function checkLabelCounts(
  counts: CountLabelsResponse,
  sampling: string,
  taskKind: string | undefined,
): LabelCheck {
  const reasons: string[] = [];
  const total = toCount(counts.total);
  if (total < MIN_TRAINING_LABELS) {
    reasons.push(
      `Training needs at least ${MIN_TRAINING_LABELS} labelled instances; this label source has ${total}. ` +
        'Annotate more instances or pick another label source.',
    );
  }
  if (sampling === 'equal') {
    for (const entry of counts.counts ?? []) {
      const count = toCount(entry.count);
      if (count < MIN_LABELS_PER_CLASS_FOR_EQUAL_SAMPLING) {
        reasons.push(
          `Equal sampling needs at least ${MIN_LABELS_PER_CLASS_FOR_EQUAL_SAMPLING} labels of every class; ` +
            `class ${entry.category ?? '?'} has ${count}. Use random sampling or annotate more.`,
        );
      }
    }
  }
  if (sampling === 'positives_only' && taskKind && taskKind !== 'BINARY_CLASSIFICATION') {
    reasons.push('Positives-only sampling works only for binary use cases; choose another sampling.');
  }
  return { blocked: reasons.length > 0, reasons };
}

interface NumberRule {
  field: keyof FormState;
  label: string;
  min: number;
  max: number;
  integer: boolean;
  /** True when the lower bound itself is not allowed. */
  exclusiveMin?: boolean;
}

const NUMBER_RULES: NumberRule[] = [
  { field: 'imageSize', label: 'Input size', min: 32, max: 1024, integer: true },
  { field: 'batchSize', label: 'Batch size', min: 2, max: 1024, integer: true },
  { field: 'learningRate', label: 'Learning rate', min: 0, max: 1, integer: false, exclusiveMin: true },
  { field: 'earlyStoppingPatience', label: 'Patience', min: 0, max: 1000, integer: true },
  { field: 'minImprovement', label: 'Improvement interval', min: 0, max: 1, integer: false },
  { field: 'maxEpochs', label: 'Maximum epochs', min: 1, max: 1000, integer: true },
  { field: 'gpuCount', label: 'GPUs', min: 0, max: 16, integer: true },
  { field: 'memoryMb', label: 'Memory', min: 0, max: 1048576, integer: true },
];

// Returns one message per number field that is outside its range; empty fields pass
// because the service fills in the default.
function validateNumbers(form: FormState): string[] {
  const problems: string[] = [];
  for (const rule of NUMBER_RULES) {
    const text = String(form[rule.field]).trim();
    if (!text) continue;
    const value = Number(text);
    const belowMin = rule.exclusiveMin ? value <= rule.min : value < rule.min;
    if (!Number.isFinite(value) || belowMin || value > rule.max || (rule.integer && !Number.isInteger(value))) {
      const kind = rule.integer ? 'a whole number' : 'a number';
      const lower = rule.exclusiveMin ? `above ${rule.min}` : `from ${rule.min}`;
      problems.push(`${rule.label} "${text}" is invalid: enter ${kind} ${lower} to ${rule.max}.`);
    }
  }
  const seed = form.seed.trim();
  if (seed && !/^\d{1,20}$/.test(seed)) {
    problems.push(`Seed "${seed}" is invalid: enter a whole number of at most 20 digits, or leave it empty.`);
  }
  if (form.jobId && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(form.jobId)) {
    problems.push(
      `Job id "${form.jobId}" is invalid: use 1 to 63 lower-case letters, digits and "-", starting with a letter or digit.`,
    );
  }
  return problems;
}

function optionalNumber(text: string): number | undefined {
  return text.trim() ? Number(text) : undefined;
}

// Builds TrainingOptions in the JSON mapping; empty fields are left out so the service
// fills in its defaults. uint64 and int64 values travel as strings.
function buildOptions(form: FormState): TrainingOptions {
  const options: TrainingOptions = {
    architecture: form.architecture,
    augmentation: form.augmentation,
    sampling: form.sampling,
    loss: form.loss,
    pretrained: form.initialisation === 'pretrained',
    optimizer: form.optimizer,
    metric: form.metric,
    imageSize: optionalNumber(form.imageSize),
    batchSize: optionalNumber(form.batchSize),
    learningRate: optionalNumber(form.learningRate),
    earlyStoppingPatience: optionalNumber(form.earlyStoppingPatience),
    minImprovement: optionalNumber(form.minImprovement),
    maxEpochs: optionalNumber(form.maxEpochs),
  };
  if (form.seed.trim()) options.seed = form.seed.trim();
  if (form.gpuCount.trim() || form.memoryMb.trim()) {
    options.resources = {
      gpuCount: optionalNumber(form.gpuCount),
      memoryMb: form.memoryMb.trim() || undefined,
    };
  }
  return options;
}

/** Renders the training form. `onCreated` receives the job the service stored and queued. */
export function TrainingForm({
  useCases,
  datasets,
  onCreated,
}: {
  useCases: UseCase[] | undefined;
  datasets: Dataset[] | undefined;
  onCreated: (job: TrainingJob) => void;
}) {
  const { userId } = useSession();
  const [form, setForm] = useState<FormState>(INITIAL_FORM);
  const [counts, setCounts] = useState<CountLabelsResponse>();
  const [countsError, setCountsError] = useState<unknown>(null);
  const [countsLoading, setCountsLoading] = useState(false);
  const [arraySize, setArraySize] = useState<number>();
  const [dryRun, setDryRun] = useState<TrainingJob>();
  const [dryRunBusy, setDryRunBusy] = useState(false);
  const [submitBusy, setSubmitBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<TrainingJob>();

  function update<K extends keyof FormState>(field: K, value: FormState[K]) {
    setForm((previous) => ({ ...previous, [field]: value }));
    setDryRun(undefined);
  }

  const filteredUseCases = useMemo(
    () =>
      (useCases ?? []).filter(
        (useCase) =>
          (!form.bodyArea || useCase.bodyArea === form.bodyArea) &&
          (!form.modality || useCase.modality === form.modality),
      ),
    [useCases, form.bodyArea, form.modality],
  );
  const useCase = useCases?.find((item) => item.name === form.useCase);
  const labelAnnotator =
    form.labelSourceKind === 'consensus'
      ? ''
      : form.labelSourceKind === 'mine'
        ? userId
        : form.annotator.trim();
  const labelSource = form.labelSourceKind === 'consensus' ? 'consensus' : labelAnnotator;

  // Counts the labels of the chosen source whenever use case, dataset or source change.
  useEffect(() => {
    setCounts(undefined);
    setCountsError(null);
    if (!form.useCase || !form.dataset || (form.labelSourceKind !== 'consensus' && !labelAnnotator)) {
      return;
    }
    let cancelled = false;
    setCountsLoading(true);
    call<CountLabelsResponse>(ANNOTATION, 'CountLabels', {
      useCase: form.useCase,
      dataset: form.dataset,
      annotator: labelAnnotator,
      // Training leaves out instances whose majority vote is tied.
      tieRule: form.labelSourceKind === 'consensus' ? 'EXCLUDE' : 'TIE_RULE_UNSPECIFIED',
    }).then(
      (response) => {
        if (cancelled) return;
        setCounts(response);
        setCountsLoading(false);
      },
      (reason: unknown) => {
        if (cancelled) return;
        setCountsError(reason);
        setCountsLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [form.useCase, form.dataset, form.labelSourceKind, labelAnnotator]);

  // Reads the array size of the dataset's latest successful preparation, which the
  // input size must equal.
  useEffect(() => {
    setArraySize(undefined);
    if (!form.dataset) return;
    let cancelled = false;
    call<ListPreparationRunsResponse>(INGEST, 'ListPreparationRuns', {
      parent: form.dataset,
      pageSize: 50,
    }).then(
      (response) => {
        if (cancelled) return;
        const run = (response.preparationRuns ?? []).find(
          (item) => item.state === 'SUCCEEDED' && (item.kinds ?? []).includes('ARRAY') && item.arraySize,
        );
        if (!run?.arraySize) return;
        setArraySize(run.arraySize);
        setForm((previous) => (previous.imageSize ? previous : { ...previous, imageSize: String(run.arraySize) }));
      },
      () => {
        // The size hint is optional; the service still checks the input size.
      },
    );
    return () => {
      cancelled = true;
    };
  }, [form.dataset]);

  const numberProblems = validateNumbers(form);
  const check = counts ? checkLabelCounts(counts, form.sampling, useCase?.taskKind) : undefined;
  const missing: string[] = [];
  if (!form.useCase) missing.push('a use case');
  if (!form.dataset) missing.push('a dataset');
  if (form.labelSourceKind === 'annotator' && !form.annotator.trim()) missing.push("the annotator's user id");
  const blocked = missing.length > 0 || numberProblems.length > 0 || !check || check.blocked;

  function request(validateOnly: boolean) {
    return {
      trainingJob: {
        displayName: form.displayName.trim() || `${displayName(useCase ?? { name: form.useCase })} training`,
        useCase: form.useCase,
        dataset: form.dataset,
        labelSource,
        owner: userId,
        options: buildOptions(form),
      },
      trainingJobId: form.jobId.trim(),
      validateOnly,
    };
  }

  async function runDryRun() {
    setDryRunBusy(true);
    setError(null);
    try {
      setDryRun(await call<TrainingJob>(TRAINING, 'CreateTrainingJob', request(true)));
    } catch (reason) {
      setError(reason);
    } finally {
      setDryRunBusy(false);
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (blocked) return;
    setSubmitBusy(true);
    setError(null);
    setCreated(undefined);
    try {
      const job = await call<TrainingJob>(TRAINING, 'CreateTrainingJob', request(false));
      setCreated(job);
      setForm((previous) => ({ ...previous, jobId: '' }));
      onCreated(job);
    } catch (reason) {
      setError(reason);
    } finally {
      setSubmitBusy(false);
    }
  }

  return (
    <Section title="New training job">
      <form onSubmit={submit} aria-label="New training job">
        <fieldset>
          <legend>Data</legend>
          <div className="option-grid">
            <Select
              label="Body area"
              options={BODY_AREAS.map((value) => ({ value, label: enumLabel(value) }))}
              value={form.bodyArea}
              onChange={(value) => update('bodyArea', value)}
              placeholder="Any body area"
              help="Narrows the use case list."
            />
            <Select
              label="Modality"
              options={MODALITIES}
              value={form.modality}
              onChange={(value) => update('modality', value)}
              placeholder="Any modality"
              help="Narrows the use case list."
            />
            <UseCaseSelect
              useCases={filteredUseCases}
              value={form.useCase}
              onChange={(value) => update('useCase', value)}
              help="The categories of its first data element become the model's classes."
            />
            <DatasetSelect
              datasets={datasets}
              value={form.dataset}
              onChange={(value) => update('dataset', value)}
              help="Its prepared arrays and train, validation and test splits are used."
            />
            <Select
              label="Labels"
              options={[
                { value: 'consensus', label: 'Majority vote of all annotators' },
                { value: 'mine', label: 'My own annotations' },
                { value: 'annotator', label: 'One annotator (user id)' },
              ]}
              value={form.labelSourceKind}
              onChange={(value) => update('labelSourceKind', value as LabelSourceKind)}
              help="Reference readers are never used for training. Tied votes are left out."
            />
            {form.labelSourceKind === 'annotator' ? (
              <Field label="Annotator user id" help="The user id whose labels the model learns.">
                <input
                  value={form.annotator}
                  onChange={(event) => update('annotator', event.target.value)}
                  autoComplete="off"
                />
              </Field>
            ) : null}
            <Field label="Job name" help="Shown in the job list and given to the model; at most 200 characters.">
              <input
                value={form.displayName}
                maxLength={200}
                onChange={(event) => update('displayName', event.target.value)}
              />
            </Field>
            <Field label="Job id (optional)" help="Lower-case letters, digits and '-'; generated when empty.">
              <input value={form.jobId} onChange={(event) => update('jobId', event.target.value)} autoComplete="off" />
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>Network and input</legend>
          <div className="option-grid">
            <Select
              label="Architecture"
              options={ARCHITECTURES}
              value={form.architecture}
              onChange={(value) => update('architecture', value)}
              help="Deeper networks can learn more but need more labels, memory and time."
            />
            <Select
              label="Initialisation"
              options={INITIALISATIONS}
              value={form.initialisation}
              onChange={(value) => update('initialisation', value)}
              help="Pretrained weights usually converge faster on small datasets than random ones."
            />
            <Field
              label="Input size (pixels)"
              help={
                arraySize
                  ? `Side of the square input, 32 to 1024. This dataset's arrays are ${arraySize} px, and the size must match.`
                  : 'Side of the square input, 32 to 1024 (default 128); must match the prepared arrays.'
              }
            >
              <input
                type="number"
                min={32}
                max={1024}
                step={1}
                value={form.imageSize}
                onChange={(event) => update('imageSize', event.target.value)}
              />
            </Field>
            <Select
              label="Augmentation"
              options={AUGMENTATIONS}
              value={form.augmentation}
              onChange={(value) => update('augmentation', value)}
              help="Random changes of each training image, which reduce overfitting."
            />
          </div>
        </fieldset>

        <fieldset>
          <legend>Training</legend>
          <div className="option-grid">
            <Select
              label="Sampling"
              options={SAMPLINGS}
              value={form.sampling}
              onChange={(value) => update('sampling', value)}
              help={`How each batch is drawn. Equal ratios need at least ${MIN_LABELS_PER_CLASS_FOR_EQUAL_SAMPLING} training labels per class.`}
            />
            <Select
              label="Loss"
              options={LOSSES}
              value={form.loss}
              onChange={(value) => update('loss', value)}
              help="What the optimiser minimises. Focal loss puts weight on hard examples."
            />
            <Select
              label="Optimiser"
              options={OPTIMIZERS}
              value={form.optimizer}
              onChange={(value) => update('optimizer', value)}
              help="Adam adapts the step size per weight; SGD takes plain gradient steps."
            />
            <Field label="Batch size" help="Images per optimiser step, 2 to 1024 (default 16).">
              <input
                type="number"
                min={2}
                max={1024}
                step={1}
                value={form.batchSize}
                onChange={(event) => update('batchSize', event.target.value)}
              />
            </Field>
            <Field label="Learning rate" help="Initial step size, above 0 and at most 1 (default 0.001).">
              <input
                type="number"
                min={0}
                max={1}
                step="any"
                value={form.learningRate}
                onChange={(event) => update('learningRate', event.target.value)}
              />
            </Field>
            <Field label="Maximum epochs" help="Passes over the training split, 1 to 1000 (default 10).">
              <input
                type="number"
                min={1}
                max={1000}
                step={1}
                value={form.maxEpochs}
                onChange={(event) => update('maxEpochs', event.target.value)}
              />
            </Field>
            <Field label="Seed (optional)" help="Makes initialisation, sampling and augmentation repeatable.">
              <input
                inputMode="numeric"
                value={form.seed}
                onChange={(event) => update('seed', event.target.value)}
                autoComplete="off"
              />
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>Early stopping</legend>
          <div className="option-grid">
            <Select
              label="Performance metric"
              options={METRICS}
              value={form.metric}
              onChange={(value) => update('metric', value)}
              help="Validation figure that picks the best epoch and decides early stopping."
            />
            <Field label="Patience (epochs)" help="Epochs without improvement before training stops; 0 turns early stopping off.">
              <input
                type="number"
                min={0}
                max={1000}
                step={1}
                value={form.earlyStoppingPatience}
                onChange={(event) => update('earlyStoppingPatience', event.target.value)}
              />
            </Field>
            <Field label="Improvement interval" help="Smallest change of the metric that counts as better, 0 to 1.">
              <input
                type="number"
                min={0}
                max={1}
                step="any"
                value={form.minImprovement}
                onChange={(event) => update('minImprovement', event.target.value)}
              />
            </Field>
          </div>
        </fieldset>

        <fieldset>
          <legend>Worker resources</legend>
          <div className="option-grid">
            <Field label="GPUs" help="0 to 16; 0 or empty lets a CPU worker take the job.">
              <input
                type="number"
                min={0}
                max={16}
                step={1}
                value={form.gpuCount}
                onChange={(event) => update('gpuCount', event.target.value)}
              />
            </Field>
            <Field label="Memory (MiB)" help="Memory the job needs, 0 to 1048576; empty states no need.">
              <input
                type="number"
                min={0}
                max={1048576}
                step={1}
                value={form.memoryMb}
                onChange={(event) => update('memoryMb', event.target.value)}
              />
            </Field>
          </div>
        </fieldset>

        <LabelCountPanel
          counts={counts}
          loading={countsLoading}
          error={countsError}
          check={check}
          sampling={form.sampling}
          ready={Boolean(form.useCase && form.dataset)}
        />
        {missing.length > 0 ? <p className="muted">To train, choose {missing.join(', ')}.</p> : null}
        {numberProblems.map((problem) => (
          <p key={problem} className="check-result check-blocked">
            {problem}
          </p>
        ))}
        {dryRun ? <DryRunResult job={dryRun} /> : null}
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        {created ? (
          <Notice>
            Job {created.displayName || created.name} is {enumLabel(created.state).toLowerCase()}.
          </Notice>
        ) : null}
        <div className="row">
          <Button
            onClick={() => void runDryRun()}
            busy={dryRunBusy}
            disabled={missing.length > 0 || numberProblems.length > 0}
          >
            Check with the service
          </Button>
          <Button type="submit" variant="primary" busy={submitBusy} disabled={blocked} data-testid="train-submit">
            Start training
          </Button>
        </div>
      </form>
    </Section>
  );
}

function LabelCountPanel({
  counts,
  loading,
  error,
  check,
  sampling,
  ready,
}: {
  counts: CountLabelsResponse | undefined;
  loading: boolean;
  error: unknown;
  check: LabelCheck | undefined;
  sampling: string;
  ready: boolean;
}) {
  if (!ready) return null;
  if (error) return <ErrorBanner error={error} />;
  if (loading || !counts) return <p className="muted">Counting labels…</p>;
  return (
    <div aria-live="polite" data-testid="label-counts">
      <h3>Labels per class</h3>
      <ul className="count-list">
        {(counts.counts ?? []).map((entry) => {
          const count = toCount(entry.count);
          const low = sampling === 'equal' && count < MIN_LABELS_PER_CLASS_FOR_EQUAL_SAMPLING;
          return (
            <li key={entry.category} className={low ? 'count-low' : undefined}>
              {entry.category}: {count}
            </li>
          );
        })}
        <li>Total: {toCount(counts.total)}</li>
        {toCount(counts.tiedCount) > 0 ? <li>Tied, left out: {toCount(counts.tiedCount)}</li> : null}
      </ul>
      {check?.blocked ? (
        check.reasons.map((reason) => (
          <p key={reason} className="check-result check-blocked">
            {reason}
          </p>
        ))
      ) : (
        <p className="check-result check-ok">
          Enough labels to train. The service counts only instances with prepared arrays, and
          for equal sampling only those in the training split, so it may still reject the job.
        </p>
      )}
    </div>
  );
}

// Shows the counts the service computed in a validate-only CreateTrainingJob call.
function DryRunResult({ job }: { job: TrainingJob }) {
  return (
    <div className="check-result check-ok" role="status">
      <strong>The service accepts this job.</strong> Labelled instances with prepared arrays:
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Class</th>
            <th scope="col" className="numeric">All</th>
            <th scope="col" className="numeric">Train</th>
            <th scope="col" className="numeric">Validation</th>
            <th scope="col" className="numeric">Test</th>
          </tr>
        </thead>
        <tbody>
          {(job.labelCounts ?? []).map((count) => (
            <tr key={count.category}>
              <td>{count.category}</td>
              <td className="numeric">{count.count ?? 0}</td>
              <td className="numeric">{count.trainCount ?? 0}</td>
              <td className="numeric">{count.validationCount ?? 0}</td>
              <td className="numeric">{count.testCount ?? 0}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
