// The training job list with cancel and progress, and the live view of one job with
// its training and validation curves.
import type { EChartsOption } from 'echarts';
import { useEffect, useMemo, useState } from 'react';
import {
  call,
  resourceId,
  TRAINING,
  TRAINING_JOB_FINAL_STATES,
  watchJob,
  type ListTrainingJobsResponse,
  type TrainingJob,
} from '../../api';
import { useSession } from '../../session';
import {
  Button,
  enumLabel,
  ErrorBanner,
  formatNumber,
  formatTime,
  Pager,
  ProgressBar,
  Section,
  Select,
  StateBadge,
  useLoad,
} from '../../ui';
import { EChart, SERIES_COLORS } from './chart';
import { usePolling } from './resources';

const JOB_STATES = ['QUEUED', 'RUNNING', 'CANCELLING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

/** Milliseconds between refreshes of the job list while a job is not finished. */
const LIST_REFRESH_MS = 3000;
/** Milliseconds between GetTrainingJob calls when the event stream is not available. */
const JOB_POLL_MS = 2000;

export function isFinished(job: TrainingJob | undefined): boolean {
  return Boolean(job?.state && TRAINING_JOB_FINAL_STATES.includes(job.state));
}

/** Renders the list of training jobs. A change of `refreshKey` reloads it, for example after a create. */
export function TrainingJobList({
  refreshKey,
  selected,
  onSelect,
}: {
  refreshKey: number;
  selected: string;
  onSelect: (name: string) => void;
}) {
  const { userId } = useSession();
  const [onlyMine, setOnlyMine] = useState(false);
  const [state, setState] = useState('');
  const [pageToken, setPageToken] = useState('');
  const [cancelling, setCancelling] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);

  const filter = [onlyMine && userId ? `owner="${userId}"` : '', state ? `state=${state}` : '']
    .filter(Boolean)
    .join(' AND ');
  const jobs = useLoad(
    () => call<ListTrainingJobsResponse>(TRAINING, 'ListTrainingJobs', { filter, pageSize: 25, pageToken }),
    [filter, pageToken, refreshKey],
  );
  const rows = jobs.data?.trainingJobs ?? [];
  usePolling(jobs.reload, LIST_REFRESH_MS, rows.some((job) => !isFinished(job)));

  async function cancel(job: TrainingJob) {
    setCancelling(job.name);
    setActionError(null);
    try {
      await call<TrainingJob>(TRAINING, 'CancelTrainingJob', { name: job.name });
      jobs.reload();
    } catch (reason) {
      setActionError(reason);
    } finally {
      setCancelling('');
    }
  }

  return (
    <Section
      title="Training jobs"
      actions={
        <>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={onlyMine}
              onChange={(event) => {
                setOnlyMine(event.target.checked);
                setPageToken('');
              }}
            />
            Only my jobs
          </label>
          <Select
            label="State"
            options={JOB_STATES.map((value) => ({ value, label: enumLabel(value) }))}
            value={state}
            onChange={(value) => {
              setState(value);
              setPageToken('');
            }}
            placeholder="Any state"
          />
          <Button onClick={jobs.reload}>Refresh</Button>
        </>
      }
    >
      <ErrorBanner error={jobs.error} />
      <ErrorBanner error={actionError} onDismiss={() => setActionError(null)} />
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Training jobs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">Use case / dataset</th>
              <th scope="col">Labels</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={7} className="table-empty">
                  {jobs.data ? 'No training jobs match.' : 'Loading…'}
                </td>
              </tr>
            ) : (
              rows.map((job) => (
                <JobRow
                  key={job.name}
                  job={job}
                  selected={job.name === selected}
                  cancelling={cancelling === job.name}
                  onSelect={() => onSelect(job.name)}
                  onCancel={() => void cancel(job)}
                />
              ))
            )}
          </tbody>
        </table>
      </div>
      <Pager nextPageToken={jobs.data?.nextPageToken} pageToken={pageToken} onPage={setPageToken} />
    </Section>
  );
}

function JobRow({
  job,
  selected,
  cancelling,
  onSelect,
  onCancel,
}: {
  job: TrainingJob;
  selected: boolean;
  cancelling: boolean;
  onSelect: () => void;
  onCancel: () => void;
}) {
  const id = resourceId(job.name);
  const cancellable = job.state === 'QUEUED' || job.state === 'RUNNING';
  return (
    <tr data-testid={`job-row-${id}`} className={selected ? 'selected' : undefined} aria-selected={selected}>
      <td>
        <Button variant="link" onClick={onSelect} aria-label={`Show curves of ${job.displayName || id}`}>
          {job.displayName || id}
        </Button>
        <div className="muted">{id}</div>
      </td>
      <td>
        <StateBadge state={job.state} />
        {job.error?.message ? <div className="pre-text muted">{job.error.message}</div> : null}
      </td>
      <td className="job-progress" data-testid={`job-progress-${id}`}>
        <JobProgress job={job} />
      </td>
      <td>
        {resourceId(job.useCase ?? '')}
        <div className="muted">{resourceId(job.dataset ?? '')}</div>
      </td>
      <td>{job.labelSource === 'consensus' ? 'Majority vote' : job.labelSource}</td>
      <td>{formatTime(job.createTime)}</td>
      <td>
        {cancellable ? (
          <Button
            variant="danger"
            onClick={onCancel}
            busy={cancelling}
            data-testid={`job-cancel-${id}`}
            aria-label={`Cancel ${job.displayName || id}`}
          >
            Cancel
          </Button>
        ) : null}
        {job.model ? <div className="muted">Model {resourceId(job.model)}</div> : null}
      </td>
    </tr>
  );
}

/** Epoch progress bar with the latest losses and metric. */
export function JobProgress({ job }: { job: TrainingJob }) {
  const progress = job.progress;
  const maxEpochs = progress?.maxEpochs || job.options?.maxEpochs || 0;
  const epoch = progress?.epoch ?? 0;
  return (
    <>
      <ProgressBar value={epoch} max={maxEpochs} label="Epoch" />
      {epoch > 0 ? (
        <div className="muted">
          Train loss {formatNumber(progress?.trainLoss)} · validation loss{' '}
          {formatNumber(progress?.valLoss)} · {job.options?.metric ?? 'metric'}{' '}
          {formatNumber(progress?.metric)}
        </div>
      ) : null}
    </>
  );
}

/**
 * Follows one job live: through the gateway's event stream (watchJob), or by polling
 * GetTrainingJob when the stream fails. `onFinished` runs once the job reaches a
 * terminal state.
 */
export function TrainingJobDetail({ name, onFinished }: { name: string; onFinished: () => void }) {
  const [job, setJob] = useState<TrainingJob>();
  const [error, setError] = useState<unknown>(null);
  const [polling, setPolling] = useState(false);

  useEffect(() => {
    setJob(undefined);
    setError(null);
    setPolling(false);
    const controller = new AbortController();
    call<TrainingJob>(TRAINING, 'GetTrainingJob', { name }).then(
      (first) => {
        if (controller.signal.aborted) return;
        setJob(first);
        if (isFinished(first)) return;
        let latest = first;
        // NOTE: a stream that fails or ends before a terminal state (gateway without
        // events, proxy timeout) falls back to polling every JOB_POLL_MS.
        const fallBack = () => {
          if (!controller.signal.aborted && !isFinished(latest)) setPolling(true);
        };
        watchJob(
          name,
          (next) => {
            latest = next;
            setJob(next);
          },
          controller.signal,
        ).then(fallBack, fallBack);
      },
      (reason: unknown) => {
        if (!controller.signal.aborted) setError(reason);
      },
    );
    return () => controller.abort();
  }, [name]);

  const finished = isFinished(job);
  usePolling(
    () => {
      call<TrainingJob>(TRAINING, 'GetTrainingJob', { name }).then(setJob, setError);
    },
    JOB_POLL_MS,
    polling && !finished,
  );

  useEffect(() => {
    if (finished) onFinished();
    // Only the transition to a finished state matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [finished]);

  return (
    <Section title={`Job ${job?.displayName || resourceId(name)}`}>
      <ErrorBanner error={error} />
      {job ? <JobSummary job={job} /> : <p className="muted">Loading the job…</p>}
      <LossChart job={job} />
      {job ? <HistoryTable job={job} /> : null}
    </Section>
  );
}

function JobSummary({ job }: { job: TrainingJob }) {
  const options = job.options ?? {};
  return (
    <dl className="definition-list">
      <dt>State</dt>
      <dd>
        <StateBadge state={job.state} />
        {job.error?.message ? <span className="pre-text"> {job.error.message}</span> : null}
      </dd>
      <dt>Progress</dt>
      <dd>
        <JobProgress job={job} />
      </dd>
      <dt>Classes</dt>
      <dd>{(job.classes ?? []).join(', ') || '—'}</dd>
      <dt>Settings</dt>
      <dd>
        {options.architecture}, {options.imageSize} px, batch {options.batchSize}, learning rate{' '}
        {options.learningRate}, {options.optimizer}, loss {options.loss}, sampling {options.sampling},
        augmentation {options.augmentation}, {options.pretrained ? 'pretrained' : 'random initialisation'},
        early stopping on {options.metric} after {options.earlyStoppingPatience ?? 0} epochs, at most{' '}
        {options.maxEpochs} epochs
      </dd>
      <dt>Attempts</dt>
      <dd>
        {job.attemptCount ?? 0} started, {job.failureCount ?? 0} failed, limit {job.maxAttempts ?? '—'}
        {job.workerId ? ` · worker ${job.workerId}` : ''}
      </dd>
      <dt>Model</dt>
      <dd>{job.model ? resourceId(job.model) : '—'}</dd>
    </dl>
  );
}

/** Training and validation loss (left axis) and validation metrics (right axis) per epoch. */
function LossChart({ job }: { job: TrainingJob | undefined }) {
  const option = useMemo<EChartsOption>(() => {
    const history = job?.history ?? [];
    const epochs = history.map((entry) => entry.epoch ?? 0);
    const line = (name: string, values: Array<number | undefined>, axis: number, color: string, dashed = false) => ({
      name,
      type: 'line' as const,
      yAxisIndex: axis,
      data: values.map((value) => (value === undefined || !Number.isFinite(value) ? null : value)),
      showSymbol: true,
      lineStyle: { color, type: dashed ? ('dashed' as const) : ('solid' as const) },
      itemStyle: { color },
    });
    return {
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 60, right: 60, top: 40, bottom: 40 },
      xAxis: { type: 'category', data: epochs, name: 'Epoch', nameLocation: 'middle', nameGap: 25 },
      yAxis: [
        { type: 'value', name: 'Loss', scale: true },
        { type: 'value', name: 'Metric', min: -1, max: 1 },
      ],
      series: [
        line('Training loss', history.map((entry) => entry.trainLoss), 0, SERIES_COLORS[0]),
        line('Validation loss', history.map((entry) => entry.valLoss), 0, SERIES_COLORS[1]),
        line('Validation kappa', history.map((entry) => entry.valKappa), 1, SERIES_COLORS[2], true),
        line('Validation linear kappa', history.map((entry) => entry.valLinearKappa), 1, SERIES_COLORS[3], true),
        line('Validation AUC', history.map((entry) => entry.valAuc), 1, SERIES_COLORS[4], true),
      ],
    };
  }, [job?.history]);
  return (
    <>
      <h3>Curves</h3>
      <p className="muted">
        A validation loss that rises while the training loss keeps falling is the usual sign of
        overfitting.
      </p>
      <EChart option={option} label="Training and validation curves per epoch" testId="loss-chart" />
    </>
  );
}

function HistoryTable({ job }: { job: TrainingJob }) {
  const history = job.history ?? [];
  if (history.length === 0) return <p className="muted">No finished epoch yet.</p>;
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">Figures per epoch</caption>
        <thead>
          <tr>
            <th scope="col" className="numeric">Epoch</th>
            <th scope="col" className="numeric">Training loss</th>
            <th scope="col" className="numeric">Validation loss</th>
            <th scope="col" className="numeric">Kappa</th>
            <th scope="col" className="numeric">Linear kappa</th>
            <th scope="col" className="numeric">AUC</th>
            <th scope="col">Reported</th>
          </tr>
        </thead>
        <tbody>
          {history.map((entry) => (
            <tr key={entry.epoch}>
              <td className="numeric">{entry.epoch}</td>
              <td className="numeric">{formatNumber(entry.trainLoss, 4)}</td>
              <td className="numeric">{formatNumber(entry.valLoss, 4)}</td>
              <td className="numeric">{formatNumber(entry.valKappa)}</td>
              <td className="numeric">{formatNumber(entry.valLinearKappa)}</td>
              <td className="numeric">{formatNumber(entry.valAuc)}</td>
              <td>{formatTime(entry.reportTime)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
