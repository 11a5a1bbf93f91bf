// Assess: how a deployed model does on production predictions that radiologists
// confirmed or corrected, over time and per time window, with alerts.
import { useState, type FormEvent } from 'react';
import { call, EVALUATION, resourceId, type Model } from '../api';
import type { PageMeta } from '../App';
import { Button, enumLabel, ErrorBanner, Field, formatTime, PageHeader, Section, Select, toCount } from '../ui';
import './model/model.css';
import { ProbabilityTimeline, WindowChart } from './model/assessment-charts';
import {
  dateToLocalInput,
  displayName,
  formatMetric,
  formatWithInterval,
  localInputToRfc3339,
  scalarField,
  toNumber,
} from './model/format';
import { LoadErrors, ModelSelect, UseCaseSelect, useModels, useUseCases } from './model/resources';
import { ALERT_METRICS, type AssessModelResponse } from './model/types';

export const meta: PageMeta = { path: '/assess', title: 'Assess', order: 70, roles: ['radiologist'] };

const WINDOWS = [
  { value: '', label: 'No windows' },
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '1 day' },
  { value: '604800', label: '1 week' },
  { value: '2592000', label: '30 days' },
];

/** Windows AssessModel accepts in one request. */
const MAX_WINDOWS = 1000;
/** Days before now that the range starts at by default. */
const DEFAULT_RANGE_DAYS = 90;

interface AssessForm {
  start: string;
  end: string;
  window: string;
  threshold: string;
  alertMetric: string;
  alertLevel: string;
  alertMinCount: string;
}

interface ModelAssessment {
  model: Model;
  response?: AssessModelResponse;
  error?: unknown;
}

function initialForm(): AssessForm {
  const start = new Date(Date.now() - DEFAULT_RANGE_DAYS * 24 * 3600 * 1000);
  return {
    start: dateToLocalInput(start),
    end: '',
    window: '604800',
    threshold: '0.5',
    alertMetric: '',
    alertLevel: '0.6',
    alertMinCount: '10',
  };
}

// Returns the problems of the form, one sentence each.
function validate(form: AssessForm): string[] {
  const problems: string[] = [];
  const start = form.start ? new Date(form.start).getTime() : Number.NaN;
  const end = form.end ? new Date(form.end).getTime() : Date.now();
  if (form.window && Number.isNaN(start)) problems.push('Windows need a start time; enter one.');
  if (!Number.isNaN(start) && end <= start) problems.push('The end must be after the start; change one of them.');
  if (form.window && !Number.isNaN(start) && (end - start) / (Number(form.window) * 1000) > MAX_WINDOWS) {
    problems.push(`The range holds more than ${MAX_WINDOWS} windows; choose longer windows or a shorter range.`);
  }
  const threshold = Number(form.threshold);
  if (form.threshold.trim() === '' || !(threshold >= 0 && threshold <= 1)) {
    problems.push(`Threshold "${form.threshold}" is invalid: enter a number from 0 to 1.`);
  }
  if (form.alertMetric) {
    if (form.alertLevel.trim() === '' || !Number.isFinite(Number(form.alertLevel))) {
      problems.push(`Alert level "${form.alertLevel}" is invalid: enter a number.`);
    }
    if (!/^\d+$/.test(form.alertMinCount.trim() || '0')) {
      problems.push(`Minimum count "${form.alertMinCount}" is invalid: enter a whole number of 0 or more.`);
    }
  }
  return problems;
}

function buildRequest(model: string, form: AssessForm) {
  return {
    model,
    startTime: localInputToRfc3339(form.start) || undefined,
    endTime: localInputToRfc3339(form.end) || undefined,
    threshold: Number(form.threshold),
    // google.protobuf.Duration is written as seconds with an "s" suffix.
    window: form.window ? `${form.window}s` : undefined,
    alertRule: form.alertMetric
      ? {
          metric: form.alertMetric,
          level: Number(form.alertLevel),
          minCount: form.alertMinCount.trim() || '0',
        }
      : undefined,
  };
}

export default function AssessPage() {
  const useCases = useUseCases();
  const [useCase, setUseCase] = useState('');
  const [model, setModel] = useState('');
  const [allModels, setAllModels] = useState(false);
  const [form, setForm] = useState<AssessForm>(initialForm);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<AssessModelResponse>();
  const [resultForm, setResultForm] = useState<AssessForm>();
  const [summary, setSummary] = useState<ModelAssessment[]>();
  const models = useModels(useCase);
  const problems = validate(form);

  function update<K extends keyof AssessForm>(field: K, value: AssessForm[K]) {
    setForm((previous) => ({ ...previous, [field]: value }));
  }

  async function assess(event: FormEvent) {
    event.preventDefault();
    if (problems.length > 0) return;
    setBusy(true);
    setError(null);
    try {
      if (allModels) {
        // One AssessModel call per model; a failing model shows its own error.
        const list = models.data ?? [];
        const outcomes = await Promise.all(
          list.map((item) =>
            call<AssessModelResponse>(EVALUATION, 'AssessModel', buildRequest(item.name, form)).then(
              (response): ModelAssessment => ({ model: item, response }),
              (reason: unknown): ModelAssessment => ({ model: item, error: reason }),
            ),
          ),
        );
        setSummary(outcomes);
        setResult(undefined);
      } else {
        setResult(await call<AssessModelResponse>(EVALUATION, 'AssessModel', buildRequest(model, form)));
        setSummary(undefined);
      }
      setResultForm(form);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  }

  const ready = problems.length === 0 && (allModels ? (models.data ?? []).length > 0 : Boolean(model));
  return (
    <>
      <PageHeader
        title="Assess"
        description="Watch a deployed model on the predictions that radiologists reviewed: figures over time, false calls by study date, and alerts when a figure drops."
      />
      <Section title="What to assess">
        <LoadErrors errors={[useCases.error]} />
        <form onSubmit={assess} aria-label="Assessment settings">
          <div className="option-grid">
            <UseCaseSelect
              useCases={useCases.data}
              value={useCase}
              onChange={(value) => {
                setUseCase(value);
                setModel('');
              }}
              placeholder="All use cases"
            />
            <ModelSelect models={models.data} value={model} onChange={setModel} />
            <Field label="From" help="Predictions made at or after this time.">
              <input type="datetime-local" value={form.start} onChange={(event) => update('start', event.target.value)} />
            </Field>
            <Field label="Until" help="Predictions made before this time; empty means now.">
              <input type="datetime-local" value={form.end} onChange={(event) => update('end', event.target.value)} />
            </Field>
            <Select
              label="Time window"
              options={WINDOWS}
              value={form.window}
              onChange={(value) => update('window', value)}
              help="Cuts the range into windows with their own figures, placed by prediction time."
            />
            <Field label="Threshold" help="Binary use cases: probability at or above which a prediction is positive.">
              <input
                type="number"
                min={0}
                max={1}
                step={0.01}
                value={form.threshold}
                onChange={(event) => update('threshold', event.target.value)}
              />
            </Field>
            <Select
              label="Alert on"
              options={ALERT_METRICS.map((value) => ({ value, label: enumLabel(value) }))}
              value={form.alertMetric}
              onChange={(value) => update('alertMetric', value)}
              placeholder="No alert"
              help="Sensitivity and specificity work for binary use cases only."
            />
            {form.alertMetric ? (
              <>
                <Field label="Alert level" help="An alert is raised when the figure is below this level.">
                  <input
                    type="number"
                    step="any"
                    value={form.alertLevel}
                    onChange={(event) => update('alertLevel', event.target.value)}
                  />
                </Field>
                <Field label="Minimum reviewed predictions" help="Fewer than this gives 'insufficient data'.">
                  <input
                    type="number"
                    min={0}
                    step={1}
                    value={form.alertMinCount}
                    onChange={(event) => update('alertMinCount', event.target.value)}
                  />
                </Field>
              </>
            ) : null}
          </div>
          <label className="checkbox">
            <input type="checkbox" checked={allModels} onChange={(event) => setAllModels(event.target.checked)} />
            Assess every listed model and compare them
          </label>
          {problems.map((problem) => (
            <p key={problem} className="check-result check-blocked">
              {problem}
            </p>
          ))}
          <ErrorBanner error={models.error} />
          <ErrorBanner error={error} onDismiss={() => setError(null)} />
          <Button type="submit" variant="primary" busy={busy} disabled={!ready} data-testid="assess-submit">
            Assess
          </Button>
        </form>
      </Section>
      {summary ? <AllModelsSummary assessments={summary} /> : null}
      {result && resultForm ? <AssessmentView result={result} form={resultForm} /> : null}
    </>
  );
}

function alertingWindowsText(count: number): string {
  if (count === 0) return '';
  return count === 1 ? ', in one window' : `, in ${count} windows`;
}

function AlertStateText({ state, value }: { state?: string; value?: number | string }) {
  if (!state || state === 'STATE_UNSPECIFIED') return <span className="muted">No alert rule</span>;
  return (
    <span className={`alert-state-${state.toLowerCase()}`}>
      {enumLabel(state)}
      {Number.isFinite(toNumber(value)) ? ` (${formatMetric(value)})` : ''}
    </span>
  );
}

function AssessmentView({ result, form }: { result: AssessModelResponse; form: AssessForm }) {
  const metrics = result.metrics;
  const points = result.points ?? [];
  const windows = result.windows ?? [];
  const undated = points.filter((point) => !point.studyDate).length;
  const binary = points.some((point) => point.outcome);
  const falsePositives = points.filter((point) => point.outcome === 'FP').length;
  const falseNegatives = points.filter((point) => point.outcome === 'FN').length;
  const alert = result.alertState === 'ALERT';
  return (
    <Section title={`Assessment of ${resourceId(result.model ?? '')}`}>
      {alert ? (
        <div className="banner banner-error" role="alert" data-testid="assess-alert">
          Alert: {enumLabel(form.alertMetric)} is {formatMetric(result.alertMetricValue)}, below the level{' '}
          {form.alertLevel}
          {alertingWindowsText(toCount(result.alertingWindowCount))}.
        </div>
      ) : null}
      <div className="metric-grid">
        <Figure name="Reviewed predictions" value={metrics?.n ?? '0'} />
        <Figure name="Not reviewed yet" value={result.unreviewedCount ?? '0'} />
        <Figure name="Kappa (95% CI)" value={formatWithInterval(metrics && scalarField(metrics.kappa), metrics?.kappaInterval)} />
        <Figure name="Linear kappa" value={formatMetric(metrics && scalarField(metrics.linearKappa))} />
        <Figure name="AUC" value={formatMetric(metrics && scalarField(metrics.auc))} />
        <Figure name="Accuracy" value={formatMetric(metrics && scalarField(metrics.accuracy))} />
        {binary ? (
          <>
            <Figure name="Sensitivity" value={formatMetric(metrics?.atThreshold && scalarField(metrics.atThreshold.sensitivity))} />
            <Figure name="Specificity" value={formatMetric(metrics?.atThreshold && scalarField(metrics.atThreshold.specificity))} />
            <Figure name="False positives" value={String(falsePositives)} />
            <Figure name="False negatives" value={String(falseNegatives)} />
          </>
        ) : null}
        <div className="metric-card">
          <div className="metric-name">Alert state</div>
          <div className="metric-value">
            <AlertStateText state={result.alertState} value={result.alertMetricValue} />
          </div>
        </div>
      </div>
      {points.length === 0 ? (
        <p className="muted">
          No reviewed predictions in this range. Predictions count once a radiologist confirms or
          corrects them on the Run page.
        </p>
      ) : (
        <>
          <h3>Probability by study date</h3>
          <ProbabilityTimeline points={points} threshold={binary ? Number(form.threshold) : undefined} />
          {undated > 0 ? (
            <p className="muted">
              {undated === 1 ? 'One prediction' : `${undated} predictions`} without a study date{' '}
              {undated === 1 ? 'is' : 'are'} not plotted.
            </p>
          ) : null}
        </>
      )}
      {windows.length > 0 ? (
        <>
          <h3>Per time window</h3>
          <WindowChart
            windows={windows}
            alertMetric={form.alertMetric || undefined}
            alertLevel={form.alertMetric ? Number(form.alertLevel) : undefined}
          />
          <WindowTable windows={windows} binary={binary} />
        </>
      ) : null}
    </Section>
  );
}

function Figure({ name, value }: { name: string; value: string }) {
  return (
    <div className="metric-card">
      <div className="metric-name">{name}</div>
      <div className="metric-value">{value}</div>
    </div>
  );
}

function WindowTable({ windows, binary }: { windows: NonNullable<AssessModelResponse['windows']>; binary: boolean }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="assess-windows">
        <caption className="visually-hidden">Figures per time window, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">Until</th>
            <th scope="col" className="numeric">Reviewed</th>
            <th scope="col" className="numeric">Kappa</th>
            <th scope="col" className="numeric">Accuracy</th>
            <th scope="col" className="numeric">AUC</th>
            {binary ? (
              <>
                <th scope="col" className="numeric">Sensitivity</th>
                <th scope="col" className="numeric">Specificity</th>
              </>
            ) : null}
            <th scope="col">Alert</th>
          </tr>
        </thead>
        <tbody>
          {windows.map((window) => (
            <tr key={window.startTime}>
              <td>{formatTime(window.startTime)}</td>
              <td>{formatTime(window.endTime)}</td>
              <td className="numeric">{toCount(window.reviewedCount)}</td>
              <td className="numeric">{formatMetric(window.metrics && scalarField(window.metrics.kappa))}</td>
              <td className="numeric">{formatMetric(window.metrics && scalarField(window.metrics.accuracy))}</td>
              <td className="numeric">{formatMetric(window.metrics && scalarField(window.metrics.auc))}</td>
              {binary ? (
                <>
                  <td className="numeric">{formatMetric(window.metrics?.atThreshold && scalarField(window.metrics.atThreshold.sensitivity))}</td>
                  <td className="numeric">{formatMetric(window.metrics?.atThreshold && scalarField(window.metrics.atThreshold.specificity))}</td>
                </>
              ) : null}
              <td>
                <AlertStateText state={window.alertState} value={window.alertMetricValue} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AllModelsSummary({ assessments }: { assessments: ModelAssessment[] }) {
  return (
    <Section title="Every model">
      <div className="table-wrap">
        <table className="table" data-testid="assess-all-models">
          <caption className="visually-hidden">Assessment of every listed model</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col" className="numeric">Reviewed</th>
              <th scope="col" className="numeric">Not reviewed</th>
              <th scope="col" className="numeric">Kappa (95% CI)</th>
              <th scope="col" className="numeric">AUC</th>
              <th scope="col" className="numeric">Accuracy</th>
              <th scope="col">Alert</th>
            </tr>
          </thead>
          <tbody>
            {assessments.map(({ model, response, error }) => (
              <tr key={model.name}>
                <td>
                  {displayName(model)}
                  {error ? <ErrorBanner error={error} /> : null}
                </td>
                <td className="numeric">{response?.metrics?.n ?? '0'}</td>
                <td className="numeric">{response?.unreviewedCount ?? '0'}</td>
                <td className="numeric">{formatWithInterval(response?.metrics && scalarField(response.metrics.kappa), response?.metrics?.kappaInterval)}</td>
                <td className="numeric">{formatMetric(response?.metrics && scalarField(response.metrics.auc))}</td>
                <td className="numeric">{formatMetric(response?.metrics && scalarField(response.metrics.accuracy))}</td>
                <td>
                  <AlertStateText state={response?.alertState} value={response?.alertMetricValue} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
