// Binary operating point of a multiclass use case. The categories are split into a
// positive group (for example breast density C and D, "dense") and the rest. A
// threshold on the summed probability of the positive group then makes the call.
//
// The evaluation service returns ROC curves only for binary use cases, so this view
// computes them in the browser from each model's stored test predictions
// (TrainingService.ListTestPredictions). Those cover the model's own test split with
// the labels it was trained against, not the dataset and truth of the evaluation.
import type { EChartsOption } from 'echarts';
import { useEffect, useMemo, useState } from 'react';
import { resourceId, TRAINING, type TestPrediction } from '../../api';
import { ErrorBanner } from '../../ui';
import { ConfusionHeatmap, EChart, SERIES_COLORS } from './chart';
import { formatMetric, wilsonInterval } from './format';
import { deriveFigures, type OperatingPoint } from './operating-point';
import { listAll } from './resources';
import type { ModelResult } from './types';

/** One instance reduced to a score (summed probability of the positive group) and its truth. */
interface ScoredInstance {
  score: number;
  positive: boolean;
}

/** Reduces test predictions to scores of the positive group, whose `positiveIndexes` index the model's classes. */
export function scoreInstances(predictions: TestPrediction[], positiveIndexes: Set<number>): ScoredInstance[] {
  return predictions.map((prediction) => {
    let score = 0;
    (prediction.probabilities ?? []).forEach((probability, index) => {
      if (positiveIndexes.has(index)) score += probability;
    });
    return { score, positive: positiveIndexes.has(prediction.label ?? 0) };
  });
}

/** Counts the calls at `threshold`: an instance is positive when its score is at or above it. */
export function countAt(instances: ScoredInstance[], threshold: number): OperatingPoint {
  let truePositives = 0;
  let falsePositives = 0;
  let trueNegatives = 0;
  let falseNegatives = 0;
  for (const instance of instances) {
    const called = instance.score >= threshold;
    if (instance.positive && called) truePositives++;
    else if (instance.positive) falseNegatives++;
    else if (called) falsePositives++;
    else trueNegatives++;
  }
  const positives = truePositives + falseNegatives;
  const negatives = trueNegatives + falsePositives;
  return {
    threshold,
    tpr: positives > 0 ? truePositives / positives : Number.NaN,
    fpr: negatives > 0 ? falsePositives / negatives : Number.NaN,
    truePositives,
    falsePositives,
    trueNegatives,
    falseNegatives,
  };
}

/** Computes the ROC curve (one point per distinct score, highest first) and its area. */
export function rocCurve(instances: ScoredInstance[]): { points: Array<[number, number]>; auc: number } {
  const positives = instances.filter((instance) => instance.positive).length;
  const negatives = instances.length - positives;
  if (positives === 0 || negatives === 0) return { points: [], auc: Number.NaN };
  const sorted = [...instances].sort((a, b) => b.score - a.score);
  const points: Array<[number, number]> = [[0, 0]];
  let truePositives = 0;
  let falsePositives = 0;
  let auc = 0;
  for (let i = 0; i < sorted.length; ) {
    // Instances with equal scores move the curve together, so ties count one half.
    const score = sorted[i].score;
    let tiedPositives = 0;
    let tiedNegatives = 0;
    while (i < sorted.length && sorted[i].score === score) {
      if (sorted[i].positive) tiedPositives++;
      else tiedNegatives++;
      i++;
    }
    auc += (tiedNegatives / negatives) * ((truePositives + tiedPositives / 2) / positives);
    truePositives += tiedPositives;
    falsePositives += tiedNegatives;
    points.push([falsePositives / negatives, truePositives / positives]);
  }
  return { points, auc };
}

interface ModelScores {
  result: ModelResult;
  instances: ScoredInstance[];
}

/** Renders the grouped binary view with its own threshold slider for a multiclass evaluation. */
export function GroupedOperatingPoint({ results, categories }: { results: ModelResult[]; categories: string[] }) {
  const [positiveGroup, setPositiveGroup] = useState<string[]>(() => categories.slice(Math.ceil(categories.length / 2)));
  const [threshold, setThreshold] = useState(0.5);
  const [predictions, setPredictions] = useState<Map<string, TestPrediction[]>>();
  const [error, setError] = useState<unknown>(null);
  const [focusModel, setFocusModel] = useState(results[0]?.model ?? '');
  const modelKey = results.map((result) => result.model).join(',');

  useEffect(() => {
    let cancelled = false;
    Promise.all(
      results.map((result) =>
        listAll<TestPrediction>(TRAINING, 'ListTestPredictions', { parent: result.model }, 'testPredictions', 1000).then(
          (items) => [result.model ?? '', items] as const,
        ),
      ),
    ).then(
      (entries) => {
        if (!cancelled) setPredictions(new Map(entries));
      },
      (reason: unknown) => {
        if (!cancelled) setError(reason);
      },
    );
    return () => {
      cancelled = true;
    };
    // The models, not the array identity, decide what to load.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [modelKey]);

  const scores = useMemo<ModelScores[]>(() => {
    if (!predictions) return [];
    // NOTE: TestPrediction indexes the model's classes. This assumes they are in the
    // order of the evaluation's categories, which both take from the use case.
    const indexes = new Set(positiveGroup.map((category) => categories.indexOf(category)).filter((index) => index >= 0));
    return results.map((result) => ({
      result,
      instances: scoreInstances(predictions.get(result.model ?? '') ?? [], indexes),
    }));
  }, [predictions, positiveGroup, categories, results]);

  const focus = scores.find((entry) => entry.result.model === focusModel) ?? scores[0];
  const point = focus ? countAt(focus.instances, threshold) : undefined;
  const groupValid = positiveGroup.length > 0 && positiveGroup.length < categories.length;

  function toggle(category: string, checked: boolean) {
    setPositiveGroup((previous) =>
      checked ? categories.filter((item) => item === category || previous.includes(item)) : previous.filter((item) => item !== category),
    );
  }

  return (
    <div data-testid="grouped-operating-point">
      <h3>Operating point of a category group</h3>
      <p className="muted">
        Calls an image positive when the summed probability of the chosen categories is at or above the
        threshold. Computed in the browser from each model's stored test predictions, so it covers the
        model's own test split and training labels, not this evaluation's dataset.
      </p>
      <ErrorBanner error={error} />
      <fieldset>
        <legend>Positive categories</legend>
        {categories.map((category) => (
          <label key={category} className="checkbox">
            <input
              type="checkbox"
              checked={positiveGroup.includes(category)}
              onChange={(event) => toggle(category, event.target.checked)}
            />
            {category}
          </label>
        ))}
      </fieldset>
      {!groupValid ? <p className="check-result check-blocked">Tick at least one category, but not all of them.</p> : null}
      {results.length > 1 ? (
        <div className="field">
          <label htmlFor="grouped-focus-model">Model for the figures</label>
          <select id="grouped-focus-model" value={focus?.result.model ?? ''} onChange={(event) => setFocusModel(event.target.value)}>
            {results.map((result) => (
              <option key={result.model} value={result.model}>
                {result.modelDisplayName || resourceId(result.model ?? '')}
              </option>
            ))}
          </select>
        </div>
      ) : null}
      <div className="threshold-control">
        <label htmlFor="grouped-threshold">Threshold</label>
        <input
          id="grouped-threshold"
          type="range"
          min={0}
          max={1}
          step={0.01}
          value={threshold}
          onChange={(event) => setThreshold(Number(event.target.value))}
          data-testid="threshold-slider"
        />
        <output htmlFor="grouped-threshold">{threshold.toFixed(2)}</output>
      </div>
      {!predictions && !error ? <p className="muted">Loading the stored test predictions…</p> : null}
      {point && groupValid ? <GroupFigures point={point} count={focus?.instances.length ?? 0} /> : null}
      {groupValid && scores.length > 0 ? (
        <div className="columns">
          <GroupRocChart scores={scores} threshold={threshold} focusModel={focus?.result.model ?? ''} />
          {point ? (
            <ConfusionHeatmap
              title={`Calls at threshold ${threshold.toFixed(2)}`}
              categories={['Other', positiveGroup.join('+')]}
              counts={[point.trueNegatives ?? 0, point.falsePositives ?? 0, point.falseNegatives ?? 0, point.truePositives ?? 0]}
              rowTitle="Label"
            />
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function GroupFigures({ point, count }: { point: OperatingPoint; count: number }) {
  const figures = deriveFigures(point);
  const tp = point.truePositives ?? 0;
  const fn = point.falseNegatives ?? 0;
  const tn = point.trueNegatives ?? 0;
  const fp = point.falsePositives ?? 0;
  const sensitivityInterval = wilsonInterval(tp, tp + fn);
  const specificityInterval = wilsonInterval(tn, tn + fp);
  const card = (name: string, value: number, interval?: { lower?: number | string; upper?: number | string }, testId?: string) => (
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
  return (
    <>
      <div className="metric-grid" aria-live="polite">
        {card('Sensitivity', figures.sensitivity, sensitivityInterval, 'metric-sensitivity')}
        {card('Specificity', figures.specificity, specificityInterval, 'metric-specificity')}
        {card('Positive predictive value', figures.ppv)}
        {card('Negative predictive value', figures.npv)}
        {card('Accuracy', figures.accuracy)}
        {card('Kappa of the calls', figures.kappa)}
      </div>
      <p className="muted">{count} stored test predictions. Intervals are 95% Wilson score intervals.</p>
    </>
  );
}

function GroupRocChart({ scores, threshold, focusModel }: { scores: ModelScores[]; threshold: number; focusModel: string }) {
  const option = useMemo<EChartsOption>(() => {
    const series: NonNullable<EChartsOption['series']> = [];
    scores.forEach((entry, index) => {
      const color = SERIES_COLORS[index % SERIES_COLORS.length];
      const label = entry.result.modelDisplayName || resourceId(entry.result.model ?? '');
      const curve = rocCurve(entry.instances);
      const point = countAt(entry.instances, threshold);
      const focused = entry.result.model === focusModel;
      series.push({
        name: `${label} (AUC ${formatMetric(curve.auc)})`,
        type: 'line',
        data: curve.points,
        showSymbol: false,
        lineStyle: { color, width: focused ? 3 : 2 },
        itemStyle: { color },
      });
      if (Number.isFinite(point.fpr) && Number.isFinite(point.tpr)) {
        series.push({
          name: `${label} operating point`,
          type: 'scatter',
          data: [[point.fpr, point.tpr]],
          symbolSize: focused ? 16 : 11,
          itemStyle: { color, borderColor: '#1b1f24', borderWidth: 1 },
        });
      }
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
  }, [scores, threshold, focusModel]);
  return <EChart option={option} label="ROC curves of the category group with operating points" testId="roc-chart" height={380} />;
}
