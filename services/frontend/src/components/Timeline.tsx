import { createEffect, onCleanup, onMount } from 'solid-js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { SeriesResponse } from '../../../../contracts/console-api.ts';

/** uPlot's columnar data: x in seconds, then max score, mean score, anomalous lines. */
export function toColumns(series: SeriesResponse): uPlot.AlignedData {
  const points = series.points;
  return [
    points.map((p) => p.t / 1000),
    points.map((p) => p.maxScore),
    points.map((p) => p.meanScore),
    points.map((p) => p.anomalous),
  ];
}

/**
 * The anomaly-score timeline of one service: max and mean score (0..1, left axis) and anomalous
 * lines per bucket (right axis). The chart is created once and fed new data on every refresh and
 * whenever another service is selected; the `data-*` attributes describe what is plotted right now.
 */
export function Timeline(props: { series: SeriesResponse }) {
  let host!: HTMLDivElement;
  let chart: uPlot | undefined;

  onMount(() => {
    const width = () => Math.max(280, host.clientWidth);
    chart = new uPlot(
      {
        width: width(),
        height: 240,
        scales: { score: { range: [0, 1] }, count: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        series: [
          {},
          { label: 'max score', scale: 'score', stroke: '#dc2626', width: 2 },
          { label: 'mean score', scale: 'score', stroke: '#2563eb', width: 1.5 },
          {
            label: 'anomalous lines',
            scale: 'count',
            stroke: '#d97706',
            fill: 'rgba(217,119,6,0.15)',
            paths: uPlot.paths.stepped?.({ align: 1 }),
          },
        ],
        axes: [{}, { scale: 'score', label: 'score' }, { scale: 'count', side: 1, grid: { show: false } }],
        legend: { live: false },
      },
      toColumns(props.series),
      host,
    );
    const observer = new ResizeObserver(() => chart?.setSize({ width: width(), height: 240 }));
    observer.observe(host);
    onCleanup(() => {
      observer.disconnect();
      chart?.destroy();
    });
  });

  createEffect(() => {
    const columns = toColumns(props.series);
    chart?.setData(columns);
    host.dataset.service = props.series.service;
    host.dataset.points = String(columns[0].length);
    host.dataset.anomalous = String((columns[3] as number[]).reduce((sum, n) => sum + n, 0));
  });

  const total = () => props.series.points.reduce((sum, p) => sum + p.anomalous, 0);
  const peak = () => Math.max(0, ...props.series.points.map((p) => p.maxScore));
  return (
    <div
      class="chart"
      ref={host}
      role="img"
      aria-label={`Anomaly scores of ${props.series.service}: ${total()} anomalous lines, highest score ${peak().toFixed(2)}`}
    />
  );
}
