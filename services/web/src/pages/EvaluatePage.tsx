// Evaluate: compare several models of a use case on the same labelled split of a
// dataset, with ROC curves, an adjustable binary threshold and confusion matrices.
import { useState, type FormEvent } from 'react';
import { call, EVALUATION, resourceId } from '../api';
import type { PageMeta } from '../App';
import { useSession } from '../session';
import { Button, enumLabel, ErrorBanner, Field, formatTime, PageHeader, Section, Select, StateBadge, useLoad } from '../ui';
import './model/model.css';
import { EvaluationResults } from './model/evaluation-results';
import { displayName } from './model/format';
import { DatasetSelect, LoadErrors, ModelCheckboxes, UseCaseSelect, useDatasets, useModels, useUseCases } from './model/resources';
import { EVALUATION_SPLITS, type Evaluation, type ListEvaluationsResponse } from './model/types';

export const meta: PageMeta = { path: '/evaluate', title: 'Evaluate', order: 60, roles: ['radiologist'] };

/** Models one evaluation may compare, as CreateEvaluation checks. */
const MAX_MODELS = 20;

export default function EvaluatePage() {
  const { userId } = useSession();
  const useCases = useUseCases();
  const datasets = useDatasets();
  const [useCase, setUseCase] = useState('');
  const [dataset, setDataset] = useState('');
  const [split, setSplit] = useState('TEST');
  const [labelSource, setLabelSource] = useState('');
  const [threshold, setThreshold] = useState('0.5');
  const [title, setTitle] = useState('');
  const [selected, setSelected] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [current, setCurrent] = useState('');
  const [refreshKey, setRefreshKey] = useState(0);
  const models = useModels(useCase);
  const recent = useLoad(
    () => call<ListEvaluationsResponse>(EVALUATION, 'ListEvaluations', { useCase, pageSize: 20 }),
    [useCase, refreshKey],
  );
  const chosenUseCase = useCases.data?.find((item) => item.name === useCase);

  const thresholdValue = Number(threshold);
  const thresholdValid = threshold.trim() !== '' && thresholdValue >= 0 && thresholdValue <= 1;
  const problems: string[] = [];
  if (!useCase) problems.push('choose a use case');
  if (!dataset) problems.push('choose a dataset');
  if (selected.length === 0) problems.push('tick at least one model');
  if (selected.length > MAX_MODELS) problems.push(`tick at most ${MAX_MODELS} models`);
  if (!thresholdValid) problems.push('enter a threshold from 0 to 1');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problems.length > 0) return;
    setBusy(true);
    setError(null);
    try {
      const evaluation = await call<Evaluation>(EVALUATION, 'CreateEvaluation', {
        evaluation: {
          displayName: title.trim() || `${displayName(chosenUseCase ?? { name: useCase })} evaluation`,
          useCase,
          dataset,
          split,
          labelSource: labelSource.trim(),
          models: selected,
          threshold: thresholdValue,
          owner: userId,
        },
      });
      setCurrent(evaluation.name ?? '');
      setRefreshKey((value) => value + 1);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader
        title="Evaluate"
        description="Run several models on the same labelled images and compare kappa, AUC, ROC curves and the figures at a threshold you choose."
      />
      <Section title="New evaluation">
        <LoadErrors errors={[useCases.error, datasets.error]} />
        <form onSubmit={submit} aria-label="New evaluation">
          <div className="option-grid">
            <UseCaseSelect
              useCases={useCases.data}
              value={useCase}
              onChange={(value) => {
                setUseCase(value);
                setSelected([]);
              }}
            />
            <DatasetSelect
              datasets={datasets.data}
              value={dataset}
              onChange={setDataset}
              help="Its labelled instances of the chosen split are scored."
            />
            <Select
              label="Split"
              options={EVALUATION_SPLITS.map((value) => ({
                value,
                label: value === 'ALL' ? 'All instances' : enumLabel(value),
              }))}
              value={split}
              onChange={setSplit}
              help="Use a split the models were not trained on, normally the test split."
            />
            <Field label="Truth from annotator (optional)" help="A user id; empty uses the majority vote of annotators.">
              <input value={labelSource} onChange={(event) => setLabelSource(event.target.value)} autoComplete="off" />
            </Field>
            <Field label="Starting threshold" help="Binary use cases: 0 to 1; the slider changes it afterwards.">
              <input
                type="number"
                min={0}
                max={1}
                step={0.01}
                value={threshold}
                onChange={(event) => setThreshold(event.target.value)}
              />
            </Field>
            <Field label="Name (optional)" help="Shown in the list of evaluations.">
              <input value={title} maxLength={200} onChange={(event) => setTitle(event.target.value)} />
            </Field>
          </div>
          {useCase ? (
            <ModelCheckboxes models={models.data} selected={selected} onChange={setSelected} legend="Models to compare" />
          ) : (
            <p className="muted">Choose a use case to list its models.</p>
          )}
          <ErrorBanner error={models.error} />
          <ErrorBanner error={error} onDismiss={() => setError(null)} />
          {problems.length > 0 ? <p className="muted">To evaluate, {problems.join(', ')}.</p> : null}
          <Button type="submit" variant="primary" busy={busy} disabled={problems.length > 0} data-testid="evaluate-submit">
            Evaluate
          </Button>
        </form>
      </Section>
      {current ? <EvaluationResults key={current} name={current} useCases={useCases.data} /> : null}
      <Section title="Recent evaluations" actions={<Button onClick={recent.reload}>Refresh</Button>}>
        <ErrorBanner error={recent.error} />
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Recent evaluations, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Evaluation</th>
                <th scope="col">State</th>
                <th scope="col">Dataset and split</th>
                <th scope="col">Models</th>
                <th scope="col">Created</th>
                <th scope="col">Open</th>
              </tr>
            </thead>
            <tbody>
              {(recent.data?.evaluations ?? []).length === 0 ? (
                <tr>
                  <td colSpan={6} className="table-empty">
                    {recent.data ? 'No evaluations yet.' : 'Loading…'}
                  </td>
                </tr>
              ) : (
                (recent.data?.evaluations ?? []).map((evaluation) => (
                  <tr key={evaluation.name} className={evaluation.name === current ? 'selected' : undefined}>
                    <td>{displayName(evaluation)}</td>
                    <td>
                      <StateBadge state={evaluation.state} />
                    </td>
                    <td>
                      {resourceId(evaluation.dataset ?? '')}, {enumLabel(evaluation.split ?? 'TEST')}
                    </td>
                    <td>{(evaluation.models ?? []).map(resourceId).join(', ')}</td>
                    <td>{formatTime(evaluation.createTime)}</td>
                    <td>
                      <Button variant="link" onClick={() => setCurrent(evaluation.name ?? '')}>
                        Show
                      </Button>
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      </Section>
    </>
  );
}
