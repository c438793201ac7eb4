export interface Series {
  label: string;
  colour: string;
  values: readonly number[];
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  logScale?: boolean;
  yMin?: number;
  yMax?: number;
  xLabel?: string;
}

/** A small line chart: one line per series, x = index, with a title, axes and a legend. */
export function drawLineChart(
  canvas: HTMLCanvasElement,
  series: readonly Series[],
  options: ChartOptions,
): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const margin = { left: 48, right: 12, top: 44, bottom: 26 };
  const transform = (value: number) =>
    options.logScale ? Math.log10(Math.max(value, 1e-6)) : value;
  const finite = series.flatMap((s) => s.values.map(transform).filter(Number.isFinite));
  const longest = Math.max(1, ...series.map((s) => s.values.length - 1));
  let low = options.yMin ?? Math.min(0, ...finite);
  let high = options.yMax ?? Math.max(...finite, low + 1e-6);
  if (!Number.isFinite(low)) low = 0;
  if (!Number.isFinite(high) || high <= low) high = low + 1;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const toX = (index: number) => margin.left + (index / longest) * plotWidth;
  const toY = (value: number) =>
    margin.top + (1 - (transform(value) - low) / (high - low)) * plotHeight;

  context.clearRect(0, 0, width, height);
  context.fillStyle = '#fff';
  context.fillRect(0, 0, width, height);
  context.font = `${Math.round(width / 48)}px system-ui, sans-serif`;
  context.fillStyle = '#222';
  context.fillText(options.title, margin.left, 16);
  context.strokeStyle = '#bbb';
  context.lineWidth = 1;
  context.beginPath();
  context.moveTo(margin.left, margin.top);
  context.lineTo(margin.left, margin.top + plotHeight);
  context.lineTo(margin.left + plotWidth, margin.top + plotHeight);
  context.stroke();
  context.fillStyle = '#555';
  for (const fraction of [0, 0.5, 1]) {
    const value = low + fraction * (high - low);
    const shown = options.logScale ? 10 ** value : value;
    context.fillText(formatTick(shown), 4, margin.top + (1 - fraction) * plotHeight + 4);
  }
  context.fillText('0', margin.left, height - 8);
  const lastLabel = String(longest);
  context.fillText(
    options.xLabel ? `${options.xLabel} ${lastLabel}` : lastLabel,
    margin.left +
      plotWidth -
      context.measureText(options.xLabel ? `${options.xLabel} ${lastLabel}` : lastLabel).width,
    height - 8,
  );

  for (const line of series) {
    context.strokeStyle = line.colour;
    context.lineWidth = 2;
    context.setLineDash(line.dashed ? [5, 4] : []);
    context.beginPath();
    let started = false;
    line.values.forEach((value, index) => {
      if (!Number.isFinite(transform(value))) return;
      const x = toX(index);
      const y = Math.min(Math.max(toY(value), margin.top), margin.top + plotHeight);
      if (started) context.lineTo(x, y);
      else context.moveTo(x, y);
      started = true;
    });
    context.stroke();
  }
  context.setLineDash([]);

  let legendX = margin.left;
  const seen = new Set<string>();
  for (const line of series) {
    const key = `${line.label}|${line.dashed ? 1 : 0}`;
    if (seen.has(key)) continue;
    seen.add(key);
    context.strokeStyle = line.colour;
    context.setLineDash(line.dashed ? [5, 4] : []);
    context.beginPath();
    context.moveTo(legendX, 30);
    context.lineTo(legendX + 18, 30);
    context.stroke();
    context.setLineDash([]);
    context.fillStyle = '#222';
    context.fillText(line.label, legendX + 22, 34);
    legendX += 30 + context.measureText(line.label).width;
  }
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 100 || Math.abs(value) < 0.01) return value.toExponential(0);
  return value.toPrecision(2);
}
