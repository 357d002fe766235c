// The 7-day spend chart: ECharts renders an SVG on the server (no DOM, no canvas), resvg turns it
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
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => `$${v}` } },
      series: series.providers.map((p) => ({ name: p, type: 'bar', stack: 'spend', data: series.usd[p] ?? [] })),
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function spendChartPng(series: SpendSeries, width = CHART_WIDTH, height = CHART_HEIGHT): Buffer {
  const svg = spendChartSvg(series, width, height);
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: FONT }, background: '#ffffff' }).render().asPng();
}
