// Plots of a model assessment: predicted probability by study date with false
// positives and false negatives marked, and metrics per time window.
import type { EChartsOption } from 'echarts';
import { useMemo } from 'react';
import { formatTime } from '../../ui';
import { EChart, SERIES_COLORS } from './chart';
import { escapeHtml, scalarField, toNumber } from './format';
import type { AssessedPoint, AssessmentWindow } from './types';

interface OutcomeStyle {
  name: string;
  color: string;
  symbol: string;
  size: number;
}

// False calls are drawn larger, in warm colours and with their own symbols, so they
// stand out without relying on colour alone.
const OUTCOME_STYLES: Record<string, OutcomeStyle> = {
  TP: { name: 'True positive', color: '#1d6b34', symbol: 'circle', size: 7 },
  TN: { name: 'True negative', color: '#0b5cad', symbol: 'circle', size: 7 },
  FP: { name: 'False positive', color: '#b3261e', symbol: 'triangle', size: 12 },
  FN: { name: 'False negative', color: '#c25e00', symbol: 'diamond', size: 12 },
  CORRECT: { name: 'Correct', color: '#0b5cad', symbol: 'circle', size: 7 },
  WRONG: { name: 'Wrong category', color: '#b3261e', symbol: 'triangle', size: 12 },
};

function outcomeOf(point: AssessedPoint): string {
  if (point.outcome) return point.outcome;
  return point.predictedCategory === point.truthCategory ? 'CORRECT' : 'WRONG';
}

/** Scatter of probability against study date, one series per outcome. */
export function ProbabilityTimeline({ points, threshold }: { points: AssessedPoint[]; threshold?: number }) {
  const option = useMemo<EChartsOption>(() => {
    const groups = new Map<string, Array<[string, number, string, string]>>();
    for (const point of points) {
      if (!point.studyDate) continue;
      const outcome = outcomeOf(point);
      const list = groups.get(outcome) ?? [];
      list.push([point.studyDate, scalarField(point.probability), point.predictedCategory ?? '', point.truthCategory ?? '']);
      groups.set(outcome, list);
    }
    const order = ['TP', 'TN', 'CORRECT', 'FP', 'FN', 'WRONG'];
    const series: NonNullable<EChartsOption['series']> = order
      .filter((outcome) => groups.has(outcome))
      .map((outcome) => {
        const style = OUTCOME_STYLES[outcome];
        return {
          name: style.name,
          type: 'scatter' as const,
          data: groups.get(outcome),
          symbol: style.symbol,
          symbolSize: style.size,
          itemStyle: { color: style.color },
          ...(threshold !== undefined && outcome === 'TP'
            ? {
                markLine: {
                  silent: true,
                  symbol: 'none',
                  lineStyle: { color: '#4a5360', type: 'dashed' as const },
                  label: { formatter: `threshold ${threshold.toFixed(2)}`, position: 'insideEndTop' },
                  data: [{ yAxis: threshold }],
                },
              }
            : {}),
        };
      });
    return {
      animation: false,
      legend: { top: 0 },
      tooltip: {
        trigger: 'item',
        formatter: (params: unknown) => {
          const value = (params as { value: [string, number, string, string] }).value;
          return (
            `Study date ${escapeHtml(value[0])}<br/>Probability ${value[1].toFixed(3)}<br/>` +
            `Predicted ${escapeHtml(value[2])}, reviewed ${escapeHtml(value[3])}`
          );
        },
      },
      grid: { left: 60, right: 20, top: 40, bottom: 50 },
      xAxis: { type: 'time', name: 'Study date', nameLocation: 'middle', nameGap: 30 },
      yAxis: { type: 'value', min: 0, max: 1, name: 'Probability', nameLocation: 'middle', nameGap: 40 },
      series,
    };
  }, [points, threshold]);
  return (
    <EChart
      option={option}
      label="Predicted probability by study date, false positives and false negatives marked"
      testId="assess-timeline"
      height={360}
    />
  );
}

/** Kappa, accuracy and AUC per window, with the alert level as a line. */
export function WindowChart({
  windows,
  alertLevel,
  alertMetric,
}: {
  windows: AssessmentWindow[];
  alertLevel?: number;
  alertMetric?: string;
}) {
  const option = useMemo<EChartsOption>(() => {
    const labels = windows.map((window) => formatTime(window.startTime));
    const values = (read: (window: AssessmentWindow) => unknown) =>
      windows.map((window) => {
        const value = toNumber(read(window) as number | string | undefined);
        return Number.isFinite(value) ? value : null;
      });
    const line = (name: string, data: Array<number | null>, color: string) => ({
      name,
      type: 'line' as const,
      data,
      connectNulls: false,
      itemStyle: { color },
      lineStyle: { color },
    });
    const series: NonNullable<EChartsOption['series']> = [
      line('Kappa', values((window) => window.metrics && scalarField(window.metrics.kappa)), SERIES_COLORS[0]),
      line('Accuracy', values((window) => window.metrics && scalarField(window.metrics.accuracy)), SERIES_COLORS[2]),
      line('AUC', values((window) => window.metrics && scalarField(window.metrics.auc)), SERIES_COLORS[4]),
    ];
    if (alertLevel !== undefined && alertMetric) {
      series.push({
        ...line(`Alert metric (${alertMetric.toLowerCase()})`, values((window) => window.alertMetricValue), SERIES_COLORS[1]),
        markLine: {
          silent: true,
          symbol: 'none',
          lineStyle: { color: SERIES_COLORS[1], type: 'dashed' },
          label: { formatter: `alert below ${alertLevel}`, position: 'insideEndTop' },
          data: [{ yAxis: alertLevel }],
        },
      });
    }
    return {
      animation: false,
      legend: { top: 0 },
      tooltip: { trigger: 'axis' },
      grid: { left: 60, right: 20, top: 40, bottom: 60 },
      xAxis: { type: 'category', data: labels, name: 'Window start', nameLocation: 'middle', nameGap: 40 },
      yAxis: { type: 'value', min: -1, max: 1 },
      series,
    };
  }, [windows, alertLevel, alertMetric]);
  return <EChart option={option} label="Metrics per time window" testId="assess-windows-chart" />;
}
