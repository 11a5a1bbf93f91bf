// Trained models side by side: their test metrics in columns, hiding or deleting a
// model, and submitting one to a challenge.
import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { call, EVALUATION, resourceId, TRAINING, type Model, type UseCase } from '../../api';
import { useSession } from '../../session';
import { Button, ErrorBanner, formatTime, Notice, Section, Select, StateBadge } from '../../ui';
import { ConfusionHeatmap } from './chart';
import { displayName, formatMetric, formatWithInterval, scalarField, toNumber } from './format';
import { ModelSelect, UseCaseSelect, useChallenges, useModels } from './resources';
import type { Submission } from './types';

interface MetricRow {
  label: string;
  value: (model: Model) => string;
}

const COMPARISON_ROWS: MetricRow[] = [
  { label: 'Architecture', value: (model) => model.architecture ?? '—' },
  { label: 'Input size', value: (model) => (model.imageSize ? `${model.imageSize} px` : '—') },
  { label: 'Classes', value: (model) => (model.classes ?? []).join(', ') || '—' },
  { label: 'Dataset', value: (model) => resourceId(model.dataset ?? '') || '—' },
  { label: 'Best epoch', value: (model) => String(model.bestEpoch ?? '—') },
  { label: 'Test instances', value: (model) => String(model.testMetrics?.n ?? '—') },
  { label: "Cohen's kappa", value: (model) => formatMetric(model.testMetrics && scalarField(model.testMetrics.kappa)) },
  { label: 'Linear-weighted kappa', value: (model) => formatMetric(model.testMetrics && scalarField(model.testMetrics.linearKappa)) },
  { label: 'Quadratic-weighted kappa', value: (model) => formatMetric(model.testMetrics && scalarField(model.testMetrics.quadraticKappa)) },
  { label: 'AUC', value: (model) => formatMetric(model.testMetrics && scalarField(model.testMetrics.auc)) },
  { label: 'Accuracy', value: (model) => formatMetric(model.testMetrics && scalarField(model.testMetrics.accuracy)) },
  { label: 'Created', value: (model) => formatTime(model.createTime) },
];

/** Renders the model list with selection, the side-by-side table and the challenge submission. */
export function ModelComparison({
  useCases,
  refreshKey,
}: {
  useCases: UseCase[] | undefined;
  refreshKey: number;
}) {
  const [useCase, setUseCase] = useState('');
  const [showHidden, setShowHidden] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [busy, setBusy] = useState('');
  const [error, setError] = useState<unknown>(null);
  const models = useModels(useCase, showHidden, refreshKey);
  const rows = models.data ?? [];
  const compared = useMemo(
    () => selected.map((name) => rows.find((model) => model.name === name)).filter((model): model is Model => !!model),
    [selected, rows],
  );

  function toggle(name: string, checked: boolean) {
    setSelected((previous) => (checked ? [...previous, name] : previous.filter((item) => item !== name)));
  }

  async function setHidden(model: Model, hidden: boolean) {
    setBusy(model.name);
    setError(null);
    try {
      // FieldMask paths are lowerCamelCase in the JSON mapping.
      await call<Model>(TRAINING, 'UpdateModel', { model: { name: model.name, hidden }, updateMask: 'hidden' });
      if (hidden) setSelected((previous) => previous.filter((item) => item !== model.name));
      models.reload();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy('');
    }
  }

  async function remove(model: Model) {
    const label = displayName(model);
    if (!window.confirm(`Delete model "${label}" and its test predictions? This cannot be undone.`)) return;
    setBusy(model.name);
    setError(null);
    try {
      await call(TRAINING, 'DeleteModel', { name: model.name });
      setSelected((previous) => previous.filter((item) => item !== model.name));
      models.reload();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy('');
    }
  }

  return (
    <>
      <Section
        title="Models"
        actions={
          <>
            <UseCaseSelect useCases={useCases} value={useCase} onChange={setUseCase} placeholder="All use cases" />
            <label className="checkbox">
              <input type="checkbox" checked={showHidden} onChange={(event) => setShowHidden(event.target.checked)} />
              Show hidden models
            </label>
            <Button onClick={models.reload}>Refresh</Button>
          </>
        }
      >
        <ErrorBanner error={models.error} />
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        <p className="muted">
          Tick several models to compare their test results side by side. Try a model on an image
          on the <Link to="/run">Run</Link> page.
        </p>
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Trained models, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Compare</th>
                <th scope="col">Model</th>
                <th scope="col">Use case</th>
                <th scope="col">Architecture</th>
                <th scope="col" className="numeric">Kappa</th>
                <th scope="col" className="numeric">AUC</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 ? (
                <tr>
                  <td colSpan={8} className="table-empty">
                    {models.data ? 'No models yet. A successful training job registers one.' : 'Loading…'}
                  </td>
                </tr>
              ) : (
                rows.map((model) => {
                  const id = resourceId(model.name);
                  return (
                    <tr key={model.name} data-testid={`model-row-${id}`}>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Compare ${displayName(model)}`}
                          checked={selected.includes(model.name)}
                          onChange={(event) => toggle(model.name, event.target.checked)}
                          data-testid={`model-compare-${id}`}
                        />
                      </td>
                      <td>
                        {displayName(model)}
                        {model.hidden ? <span className="muted"> (hidden)</span> : null}
                        <div className="muted">{id}</div>
                      </td>
                      <td>{resourceId(model.useCase ?? '')}</td>
                      <td>
                        {model.architecture}, {model.imageSize} px
                      </td>
                      <td className="numeric">{formatMetric(model.testMetrics && scalarField(model.testMetrics.kappa))}</td>
                      <td className="numeric">{formatMetric(model.testMetrics && scalarField(model.testMetrics.auc))}</td>
                      <td>{formatTime(model.createTime)}</td>
                      <td>
                        <div className="row">
                          <Button onClick={() => void setHidden(model, !model.hidden)} busy={busy === model.name}>
                            {model.hidden ? 'Show' : 'Hide'}
                          </Button>
                          <Button
                            variant="danger"
                            onClick={() => void remove(model)}
                            disabled={busy === model.name}
                            data-testid={`model-delete-${id}`}
                          >
                            Delete
                          </Button>
                        </div>
                      </td>
                    </tr>
                  );
                })
              )}
            </tbody>
          </table>
        </div>
      </Section>
      {compared.length > 0 ? <SideBySide models={compared} /> : null}
      <ChallengeSubmission models={rows} />
    </>
  );
}

function SideBySide({ models }: { models: Model[] }) {
  return (
    <Section title="Side by side">
      <div className="table-wrap">
        <table className="table compare-table" data-testid="model-comparison">
          <caption className="visually-hidden">Test results of the chosen models</caption>
          <thead>
            <tr>
              <th scope="col">Figure</th>
              {models.map((model) => (
                <th key={model.name} scope="col">
                  {displayName(model)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {COMPARISON_ROWS.map((row) => (
              <tr key={row.label}>
                <th scope="row">{row.label}</th>
                {models.map((model) => (
                  <td key={model.name}>{row.value(model)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="columns">
        {models.map((model) => {
          const matrix = model.testMetrics?.confusionMatrix;
          if (!matrix?.classes?.length) return null;
          return (
            <ConfusionHeatmap
              key={model.name}
              title={`${displayName(model)}: test confusion matrix`}
              categories={matrix.classes}
              counts={(matrix.counts ?? []).map((count) => toNumber(count) || 0)}
              rowTitle="Label"
            />
          );
        })}
      </div>
    </Section>
  );
}

/** Submits a model to an open challenge of its use case and shows the scored submission. */
function ChallengeSubmission({ models }: { models: Model[] }) {
  const { userId } = useSession();
  const [model, setModel] = useState('');
  const [challenge, setChallenge] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [submission, setSubmission] = useState<Submission>();
  const chosen = models.find((item) => item.name === model);
  const challenges = useChallenges(chosen?.useCase ?? '');
  const open = (challenges.data ?? []).filter((item) => item.state === 'OPEN');
  let challengePlaceholder = 'Choose a model first';
  if (model) {
    challengePlaceholder = open.length > 0 ? 'Choose an open challenge' : 'No open challenge for this use case';
  }

  async function submit() {
    setBusy(true);
    setError(null);
    setSubmission(undefined);
    try {
      setSubmission(
        await call<Submission>(EVALUATION, 'SubmitToChallenge', { challenge, model, participant: userId }),
      );
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Submit to a challenge">
      <div className="inline-form">
        <ModelSelect
          models={models}
          value={model}
          onChange={(value) => {
            setModel(value);
            setChallenge('');
          }}
        />
        <Select
          label="Challenge"
          options={open.map((item) => ({ value: item.name ?? '', label: displayName({ ...item, name: item.name }) }))}
          value={challenge}
          onChange={setChallenge}
          placeholder={challengePlaceholder}
        />
        <Button variant="primary" onClick={() => void submit()} busy={busy} disabled={!model || !challenge}>
          Submit
        </Button>
      </div>
      <p className="muted">
        Scoring runs the model on the challenge's test set and can take a while. Each challenge
        limits scored submissions per day.
      </p>
      <ErrorBanner error={challenges.error} />
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {submission ? (
        <Notice>
          Submission <StateBadge state={submission.state} />{' '}
          {submission.state === 'SCORED'
            ? `kappa ${formatWithInterval(scalarField(submission.kappa), submission.kappaInterval)}, AUC ${formatMetric(
                scalarField(submission.auc),
              )}, ${submission.scoredCount ?? 0} instances scored. See the Leaderboard page for the ranking.`
            : submission.error?.message ?? ''}
        </Notice>
      ) : null}
    </Section>
  );
}
