// The 7-day spend chart with the global daily cap as a dashed line: ECharts renders an SVG on the server (no DOM, no canvas), resvg turns it
// into a PNG. Both ship as npm packages with prebuilt code: nothing is downloaded at run time.
// Text uses the system's fonts (DejaVu Sans where installed); without any font the bars still
// render, only the labels are missing.
import * as echarts from 'echarts';
import { Resvg } from '@resvg/resvg-js';
import type { SpendSeries } from '../../../src/sdk/index.js';

export const CHART_WIDTH = 900;
export const CHART_HEIGHT = 420;
const FONT = 'DejaVu Sans';

export function spendChartSvg(series: SpendSeries, width = CHART_WIDTH, height = CHART_HEIGHT): string {
  const cap = series.capUsd;
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily: FONT },
      title: { text: `Spend per day, USD (${series.days[0]} to ${series.days.at(-1)})`, left: 'center', textStyle: { fontSize: 15, fontFamily: FONT } },
      legend: { bottom: 0, textStyle: { fontFamily: FONT } },
      grid: { left: 60, right: 20, top: 50, bottom: 60 },
      xAxis: { type: 'category', data: series.days.map((d) => d.slice(5)) },
      // The axis reaches the cap, so its line is always drawn, however far below it spend stays.
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => `$${v}` }, ...(cap === null ? {} : { max: (v: { max: number }) => niceMax(Math.max(v.max, cap)) }) },
      series: [
        ...series.providers.map((p) => ({ name: p, type: 'bar', stack: 'spend', data: series.usd[p] ?? [] })),
        // The cap line rides on an empty series of its own (its legend entry names it), outside the stack.
        ...(cap === null
          ? []
          : [{ name: 'daily cap', type: 'line', data: [], markLine: { silent: true, symbol: 'none', lineStyle: { color: '#d9534f', type: 'dashed', width: 2 }, label: { formatter: `daily cap $${cap.toFixed(2)}`, position: 'insideEndTop' }, data: [{ yAxis: cap }] } }]),
      ],
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** A round axis top a little above `v`, so the cap line is not drawn on the frame. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(v * 1.1));
  return [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((k) => k * step).find((m) => m >= v * 1.1)!;
}

export function spendChartPng(series: SpendSeries, width = CHART_WIDTH, height = CHART_HEIGHT): Buffer {
  const svg = spendChartSvg(series, width, height);
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: FONT }, background: '#ffffff' }).render().asPng();
}
