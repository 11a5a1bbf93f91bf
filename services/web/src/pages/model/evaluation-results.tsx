// Results of one evaluation: progress while it runs, then the metrics per model, ROC
// curves with an operating point that follows a threshold slider, and the confusion
// matrix heat map.
import type { EChartsOption } from 'echarts';
import { useEffect, useMemo, useState } from 'react';
import { ApiError, call, EVALUATION, resourceId, type UseCase } from '../../api';
import { Button, enumLabel, ErrorBanner, formatTime, ProgressBar, Section, Select, StateBadge, toCount, useLoad } from '../../ui';
import { ConfusionHeatmap, EChart, SERIES_COLORS } from './chart';
import { displayName, escapeHtml, formatMetric, formatWithInterval, scalarField, wilsonInterval } from './format';
import { GroupedOperatingPoint } from './grouped-operating-point';
import { deriveFigures, operatingPointAt, operatingPointFromMetrics, type OperatingPoint } from './operating-point';
import { usePolling } from './resources';
import type { ComputeAtThresholdResponse, Evaluation, Interval, ModelResult } from './types';
import { EVALUATION_FINAL_STATES } from './types';

/** Milliseconds between GetEvaluation calls while an evaluation runs. */
const EVALUATION_POLL_MS = 1500;
/** Milliseconds the slider must rest before ComputeAtThreshold is called. */
const THRESHOLD_DEBOUNCE_MS = 250;

/** Loads an evaluation and polls it until it reaches a terminal state. */
export function EvaluationResults({ name, useCases }: { name: string; useCases: UseCase[] | undefined }) {
  const evaluation = useLoad(() => call<Evaluation>(EVALUATION, 'GetEvaluation', { name }), [name]);
  const current = evaluation.data;
  const useCase = useCases?.find((item) => item.name === current?.useCase);
  const running = !current || !EVALUATION_FINAL_STATES.includes(current.state ?? '');
  // A failed poll (a service briefly unavailable or slow, a rate limit) is tried again at
  // the next tick; only an answer that will not change, a 4xx other than 429, stops it.
  const failure = evaluation.error;
  const permanent =
    failure instanceof ApiError && failure.status >= 400 && failure.status < 500 && failure.status !== 429;
  usePolling(evaluation.reload, EVALUATION_POLL_MS, running && !permanent);
  const [cancelError, setCancelError] = useState<unknown>(null);
  const [cancelling, setCancelling] = useState(false);

  async function cancel() {
    setCancelling(true);
    setCancelError(null);
    try {
      await call<Evaluation>(EVALUATION, 'CancelEvaluation', { name });
      evaluation.reload();
    } catch (reason) {
      setCancelError(reason);
    } finally {
      setCancelling(false);
    }
  }

  const total = toCount(current?.instanceCount) * (current?.models?.length ?? 0);
  return (
    <Section
      title={`Evaluation ${current ? displayName(current) : resourceId(name)}`}
      actions={
        current?.state === 'RUNNING' ? (
          <Button variant="danger" onClick={() => void cancel()} busy={cancelling}>
            Cancel evaluation
          </Button>
        ) : null
      }
    >
      <ErrorBanner error={evaluation.error} />
      <ErrorBanner error={cancelError} onDismiss={() => setCancelError(null)} />
      {current ? (
        <>
          <p>
            <StateBadge state={current.state} /> {enumLabel(current.split ?? 'TEST')} split of{' '}
            {resourceId(current.dataset ?? '')}, truth from{' '}
            {current.labelSource ? `annotator ${current.labelSource}` : 'the majority vote of annotators'},{' '}
            {toCount(current.instanceCount)} labelled instances. Created {formatTime(current.createTime)}.
          </p>
          {current.state === 'RUNNING' ? (
            <ProgressBar value={toCount(current.completedPredictions)} max={total} label="Predictions" />
          ) : null}
          {current.error?.message ? <ErrorBanner error={new Error(current.error.message)} /> : null}
          {current.state === 'SUCCEEDED' ? <SucceededResults evaluation={current} useCase={useCase} /> : null}
        </>
      ) : (
        <p className="muted">Loading the evaluation…</p>
      )}
    </Section>
  );
}

function SucceededResults({ evaluation, useCase }: { evaluation: Evaluation; useCase: UseCase | undefined }) {
  const categories = evaluation.categories ?? [];
  const results = evaluation.results ?? [];
  const scored = results.filter((result) => result.metrics);
  const binary = categories.length === 2 && scored.some((result) => (result.metrics?.roc ?? []).length > 0);
  const [threshold, setThreshold] = useState(() => {
    const initial = scalarField(evaluation.threshold);
    return Number.isFinite(initial) ? initial : 0.5;
  });
  const [focusModel, setFocusModel] = useState(scored[0]?.model ?? '');
  const focus = scored.find((result) => result.model === focusModel) ?? scored[0];
  const exact = useExactOperatingPoint(evaluation.name ?? '', focus?.model ?? '', threshold, binary);

  const points = useMemo(() => {
    const map = new Map<string, OperatingPoint>();
    for (const result of scored) {
      if (result.metrics && binary) map.set(result.model ?? '', operatingPointAt(result.metrics, threshold));
    }
    return map;
  }, [scored, threshold, binary]);

  // The exact figures replace the estimate once they belong to the current threshold.
  const focusPoint =
    exact && exact.model === focus?.model && exact.threshold === threshold
      ? exact.point
      : points.get(focus?.model ?? '');

  return (
    <>
      <ResultsTable results={results} points={binary ? points : undefined} />
      {useCase && (useCase.taskKind === 'DETECTION' || useCase.taskKind === 'SEGMENTATION') ? (
        <p className="muted">
          The evaluation service reports classification figures only, so Dice, IoU, volume scatter
          and Bland-Altman plots are not available for this use case yet.
        </p>
      ) : null}
      {scored.length > 1 ? (
        <Select
          label="Model for the operating point and confusion matrix"
          options={scored.map((result) => ({
            value: result.model ?? '',
            label: result.modelDisplayName || resourceId(result.model ?? ''),
          }))}
          value={focus?.model ?? ''}
          onChange={setFocusModel}
        />
      ) : null}
      {binary ? (
        <>
          <ThresholdSlider threshold={threshold} onChange={setThreshold} />
          {focusPoint ? <OperatingPointFigures point={focusPoint} exact={focusPoint === exact?.point} /> : null}
          <div className="columns">
            <RocChart results={scored} points={points} focusModel={focus?.model ?? ''} />
            {focusPoint?.truePositives !== undefined ? (
              <ConfusionHeatmap
                title={`Calls at threshold ${threshold.toFixed(2)}`}
                categories={categories}
                counts={[
                  focusPoint.trueNegatives ?? 0,
                  focusPoint.falsePositives ?? 0,
                  focusPoint.falseNegatives ?? 0,
                  focusPoint.truePositives ?? 0,
                ]}
                testId="confusion-heatmap"
              />
            ) : null}
          </div>
        </>
      ) : focus?.metrics ? (
        <>
          <MulticlassFigures result={focus} categories={categories} />
          {categories.length > 2 ? <GroupedOperatingPoint results={scored} categories={categories} /> : null}
        </>
      ) : null}
    </>
  );
}

// Calls ComputeAtThreshold for the focused model once the slider rests, and returns
// the response's figures with the threshold and model they belong to.
function useExactOperatingPoint(evaluation: string, model: string, threshold: number, enabled: boolean) {
  const [exact, setExact] = useState<{ model: string; threshold: number; point: OperatingPoint }>();
  useEffect(() => {
    if (!enabled || !evaluation || !model) return;
    let cancelled = false;
    const timer = window.setTimeout(() => {
      call<ComputeAtThresholdResponse>(EVALUATION, 'ComputeAtThreshold', { evaluation, model, threshold }).then(
        (response) => {
          if (cancelled || !response.metrics) return;
          setExact({ model, threshold, point: { ...operatingPointFromMetrics(response.metrics), threshold } });
        },
        () => {
          // The estimate from the ROC curve stays on screen, and it matches the exact
          // figures up to rounding.
        },
      );
    }, THRESHOLD_DEBOUNCE_MS);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [evaluation, model, threshold, enabled]);
  return exact;
}

function ThresholdSlider({ threshold, onChange }: { threshold: number; onChange: (value: number) => void }) {
  return (
    <div className="threshold-control">
      <label htmlFor="evaluation-threshold">Threshold</label>
      <input
        id="evaluation-threshold"
        type="range"
        min={0}
        max={1}
        step={0.01}
        value={threshold}
        onChange={(event) => onChange(Number(event.target.value))}
        data-testid="threshold-slider"
        aria-describedby="evaluation-threshold-help"
      />
      <output htmlFor="evaluation-threshold">{threshold.toFixed(2)}</output>
      <small id="evaluation-threshold-help" className="field-help">
        An image is called positive when the probability of the second category is at or above the
        threshold.
      </small>
    </div>
  );
}

function MetricCard({
  name,
  value,
  interval,
  testId,
}: {
  name: string;
  value: number;
  interval?: Interval;
  testId?: string;
}) {
  return (
    <div className="metric-card" data-testid={testId}>
      <div className="metric-name">{name}</div>
      <div className="metric-value">{formatMetric(value)}</div>
      {interval ? (
        <div className="metric-interval">
          95% CI {formatMetric(interval.lower)}–{formatMetric(interval.upper)}
        </div>
      ) : null}
    </div>
  );
}

function OperatingPointFigures({ point, exact }: { point: OperatingPoint; exact: boolean }) {
  const figures = deriveFigures(point);
  const tp = point.truePositives;
  const fn = point.falseNegatives;
  const tn = point.trueNegatives;
  const fp = point.falsePositives;
  const sensitivityInterval = tp !== undefined && fn !== undefined ? wilsonInterval(tp, tp + fn) : undefined;
  const specificityInterval = tn !== undefined && fp !== undefined ? wilsonInterval(tn, tn + fp) : undefined;
  return (
    <>
      <div className="metric-grid" aria-live="polite">
        <MetricCard name="Sensitivity" value={figures.sensitivity} interval={sensitivityInterval} testId="metric-sensitivity" />
        <MetricCard name="Specificity" value={figures.specificity} interval={specificityInterval} testId="metric-specificity" />
        <MetricCard name="Positive predictive value" value={figures.ppv} />
        <MetricCard name="Negative predictive value" value={figures.npv} />
        <MetricCard name="F1 score" value={figures.f1} />
        <MetricCard name="Accuracy" value={figures.accuracy} />
        <MetricCard name="Kappa of the calls" value={figures.kappa} />
      </div>
      <p className="muted">
        {exact
          ? 'Figures computed by the evaluation service at this threshold.'
          : 'Figures estimated from the ROC curve; the exact ones follow when the slider rests.'}{' '}
        Intervals are 95% Wilson score intervals.
      </p>
    </>
  );
}

function ResultsTable({ results, points }: { results: ModelResult[]; points?: Map<string, OperatingPoint> }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="evaluation-results">
        <caption className="visually-hidden">Metrics per model</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col" className="numeric">Instances</th>
            <th scope="col" className="numeric">Kappa (95% CI)</th>
            <th scope="col" className="numeric">Linear kappa</th>
            <th scope="col" className="numeric">Quadratic kappa</th>
            <th scope="col" className="numeric">AUC</th>
            <th scope="col" className="numeric">Accuracy</th>
            {points ? (
              <>
                <th scope="col" className="numeric">Sensitivity</th>
                <th scope="col" className="numeric">Specificity</th>
              </>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {results.map((result) => {
            const metrics = result.metrics;
            const point = points?.get(result.model ?? '');
            const figures = point ? deriveFigures(point) : undefined;
            return (
              <tr key={result.model}>
                <td>
                  {result.modelDisplayName || resourceId(result.model ?? '')}
                  {result.error?.message ? <div className="pre-text muted">{result.error.message}</div> : null}
                </td>
                <td className="numeric">{metrics ? scalarField(metrics.n) : '—'}</td>
                <td className="numeric">{formatWithInterval(metrics && scalarField(metrics.kappa), metrics?.kappaInterval)}</td>
                <td className="numeric">{formatMetric(metrics && scalarField(metrics.linearKappa))}</td>
                <td className="numeric">{formatMetric(metrics && scalarField(metrics.quadraticKappa))}</td>
                <td className="numeric">{formatMetric(metrics && scalarField(metrics.auc))}</td>
                <td className="numeric">{formatMetric(metrics && scalarField(metrics.accuracy))}</td>
                {points ? (
                  <>
                    <td className="numeric">{formatMetric(figures?.sensitivity)}</td>
                    <td className="numeric">{formatMetric(figures?.specificity)}</td>
                  </>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function RocChart({
  results,
  points,
  focusModel,
}: {
  results: ModelResult[];
  points: Map<string, OperatingPoint>;
  focusModel: string;
}) {
  const option = useMemo<EChartsOption>(() => {
    const series: NonNullable<EChartsOption['series']> = [];
    results.forEach((result, index) => {
      const color = SERIES_COLORS[index % SERIES_COLORS.length];
      const label = result.modelDisplayName || resourceId(result.model ?? '');
      const curve = (result.metrics?.roc ?? []).map((point) => [scalarField(point.fpr), scalarField(point.tpr)]);
      series.push({
        name: `${label} (AUC ${formatMetric(result.metrics && scalarField(result.metrics.auc))})`,
        type: 'line',
        data: curve,
        showSymbol: false,
        lineStyle: { color, width: result.model === focusModel ? 3 : 2 },
        itemStyle: { color },
      });
      const point = points.get(result.model ?? '');
      if (point) {
        series.push({
          name: `${label} operating point`,
          type: 'scatter',
          data: [[point.fpr, point.tpr]],
          symbolSize: result.model === focusModel ? 16 : 11,
          itemStyle: { color, borderColor: '#1b1f24', borderWidth: 1 },
          tooltip: {
            // A function, because a formatter string is an ECharts template and HTML.
            formatter: () =>
              `${escapeHtml(label)}: sensitivity ${point.tpr.toFixed(3)}, specificity ${(1 - point.fpr).toFixed(3)}`,
          },
        });
      }
    });
    series.push({
      name: 'Chance',
      type: 'line',
      data: [
        [0, 0],
        [1, 1],
      ],
      showSymbol: false,
      lineStyle: { color: '#8d96a3', type: 'dashed', width: 1 },
      itemStyle: { color: '#8d96a3' },
      tooltip: { show: false },
    });
    return {
      animation: false,
      tooltip: { trigger: 'item' },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 60, right: 20, top: 50, bottom: 50 },
      xAxis: { type: 'value', min: 0, max: 1, name: '1 − specificity (false positive rate)', nameLocation: 'middle', nameGap: 30 },
      yAxis: { type: 'value', min: 0, max: 1, name: 'Sensitivity', nameLocation: 'middle', nameGap: 40 },
      series,
    };
  }, [results, points, focusModel]);
  return <EChart option={option} label="ROC curves of the models with their operating points" testId="roc-chart" height={380} />;
}

function MulticlassFigures({ result, categories }: { result: ModelResult; categories: string[] }) {
  const metrics = result.metrics!;
  const matrix = metrics.confusionMatrix;
  const aucs = metrics.categoryAucs ?? [];
  return (
    <div className="columns">
      <ConfusionHeatmap
        title={`${result.modelDisplayName || resourceId(result.model ?? '')}: most probable category`}
        categories={matrix?.categories ?? categories}
        counts={(matrix?.counts ?? []).map(scalarField)}
        testId="confusion-heatmap"
      />
      <div className="table-wrap">
        <table className="table">
          <caption>One-vs-rest AUC per category</caption>
          <thead>
            <tr>
              <th scope="col">Category</th>
              <th scope="col" className="numeric">AUC</th>
            </tr>
          </thead>
          <tbody>
            {categories.map((category, index) => (
              <tr key={category}>
                <td>{category}</td>
                <td className="numeric">{formatMetric(aucs[index])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
