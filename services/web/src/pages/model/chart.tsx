// An ECharts plot inside a React component, and the confusion matrix heat map that
// several model pages show.
import type { EChartsOption } from 'echarts';
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useMemo, useRef } from 'react';
import { escapeHtml } from './format';

// Only the chart kinds and components the model pages draw are bundled. Importing the
// whole 'echarts' entry point made the minified application 1.55 MB instead of 1.03 MB
// (ECharts 6.1, Vite 8.4).
echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  ScatterChart,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

/**
 * Renders `option` with ECharts into a div. The chart is created on mount, redrawn
 * when `option` changes (as a new object), resized with its container and disposed on
 * unmount. `label` is the accessible name of the plot.
 */
export function EChart({
  option,
  label,
  testId,
  height = 320,
}: {
  option: EChartsOption;
  label: string;
  testId?: string;
  height?: number;
}) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const instance = echarts.init(element);
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    // notMerge: series that disappeared from `option` must disappear from the plot.
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return (
    <div
      ref={container}
      className="model-chart"
      role="img"
      aria-label={label}
      data-testid={testId}
      style={{ height }}
    />
  );
}

/**
 * Draws a confusion matrix as a heat map: rows are the truth, columns the prediction.
 * `counts` is row-major with categories.length squared entries.
 */
export function ConfusionHeatmap({
  categories,
  counts,
  title,
  testId,
  rowTitle = 'Truth',
  columnTitle = 'Prediction',
}: {
  categories: string[];
  counts: number[];
  title: string;
  testId?: string;
  rowTitle?: string;
  columnTitle?: string;
}) {
  const option = useMemo<EChartsOption>(() => {
    const size = categories.length;
    const cells: Array<[number, number, number]> = [];
    let largest = 0;
    for (let row = 0; row < size; row++) {
      for (let column = 0; column < size; column++) {
        // A count that is missing or not a finite number is drawn as 0: one NaN would
        // make the colour scale's maximum NaN, and ECharts then throws while painting.
        const count = counts[row * size + column];
        const value = Number.isFinite(count) ? count : 0;
        largest = Math.max(largest, value);
        // ECharts heat maps index cells as [x, y, value], and the truth runs down the y axis.
        cells.push([column, row, value]);
      }
    }
    return {
      animation: false,
      title: { text: title, left: 'center', textStyle: { fontSize: 13 } },
      tooltip: {
        formatter: (params: unknown) => {
          const value = (params as { value: [number, number, number] }).value;
          const truth = escapeHtml(categories[value[1]] ?? '');
          const prediction = escapeHtml(categories[value[0]] ?? '');
          return `${rowTitle} ${truth}, ${columnTitle.toLowerCase()} ${prediction}: ${value[2]}`;
        },
      },
      grid: { left: 70, right: 20, top: 40, bottom: 90 },
      xAxis: { type: 'category', data: categories, name: columnTitle, nameLocation: 'middle', nameGap: 28 },
      yAxis: {
        type: 'category',
        data: categories,
        name: rowTitle,
        nameLocation: 'middle',
        nameGap: 45,
        inverse: true,
      },
      visualMap: {
        min: 0,
        max: Math.max(1, largest),
        calculable: false,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        itemHeight: 120,
        inRange: { color: ['#f3f6fb', '#0b5cad'] },
      },
      series: [
        {
          type: 'heatmap',
          data: cells,
          label: { show: true },
          emphasis: { itemStyle: { borderColor: '#1b1f24', borderWidth: 1 } },
        },
      ],
    };
  }, [categories, counts, title, rowTitle, columnTitle]);

  const height = Math.max(240, 60 * categories.length + 120);
  return <EChart option={option} label={`${title} heat map`} testId={testId} height={height} />;
}

/** Colours of the series, in order; they keep AA contrast on white. */
export const SERIES_COLORS = ['#0b5cad', '#b3261e', '#1d6b34', '#7a4d00', '#6a1b9a', '#00695c'];
