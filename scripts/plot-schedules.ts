// Draws docs/schedules.svg: each built-in learning-rate schedule over its first
// steps, one panel per class, with a second curve where an option changes the
// shape (staircase, cycle, warm-up). No dependencies beyond the schedules, and
// deterministic (the noisy schedule is seeded), so the file only changes when a
// schedule or this script does.
//
//   node --import tsx scripts/plot-schedules.ts [out.svg]
import { writeFileSync } from 'node:fs';
import { schedules } from '../src/index.js';

interface Series { label: string; schedule: schedules.LearningRateSchedule }
interface Panel { title: string; series: Series[] }

const STEPS = 100;
const S = schedules;

const PANELS: Panel[] = [
  { title: 'ExponentialDecay(0.1, 20, 0.5)', series: [
    { label: 'staircase: false', schedule: new S.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 20, decayRate: 0.5 }) },
    { label: 'staircase: true', schedule: new S.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 20, decayRate: 0.5, staircase: true }) },
  ] },
  { title: 'PiecewiseConstantDecay([30, 60], [0.1, 0.05, 0.01])', series: [
    { label: '', schedule: new S.PiecewiseConstantDecay({ boundaries: [30, 60], values: [0.1, 0.05, 0.01] }) },
  ] },
  { title: 'PolynomialDecay(0.1, 40, end 0.01, power 2)', series: [
    { label: 'cycle: false', schedule: new S.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 40, endLearningRate: 0.01, power: 2 }) },
    { label: 'cycle: true', schedule: new S.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 40, endLearningRate: 0.01, power: 2, cycle: true }) },
  ] },
  { title: 'InverseTimeDecay(0.1, 10, 0.5)', series: [
    { label: 'staircase: false', schedule: new S.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 }) },
    { label: 'staircase: true', schedule: new S.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true }) },
  ] },
  { title: 'CosineDecay(0.1, 80, alpha 0.1)', series: [
    { label: 'TF 2.4', schedule: new S.CosineDecay({ initialLearningRate: 0.1, decaySteps: 80, alpha: 0.1 }) },
    { label: 'warm-up: 0 → 0.1 over 20', schedule: new S.CosineDecay({ initialLearningRate: 0, decaySteps: 80, alpha: 0.1, warmupTarget: 0.1, warmupSteps: 20 }) },
  ] },
  { title: 'CosineDecayRestarts(0.1, 10, tMul 2, mMul 0.7)', series: [
    { label: '', schedule: new S.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 10, tMul: 2, mMul: 0.7, alpha: 0.05 }) },
  ] },
  { title: 'LinearCosineDecay(0.1, 80)', series: [
    { label: 'numPeriods 0.5', schedule: new S.LinearCosineDecay({ initialLearningRate: 0.1, decaySteps: 80 }) },
    { label: 'numPeriods 3', schedule: new S.LinearCosineDecay({ initialLearningRate: 0.1, decaySteps: 80, numPeriods: 3 }) },
  ] },
  { title: 'NoisyLinearCosineDecay(0.1, 80, variance 0.01)', series: [
    { label: 'seed 1', schedule: new S.NoisyLinearCosineDecay({ initialLearningRate: 0.1, decaySteps: 80, initialVariance: 0.01, seed: 1 }) },
  ] },
];

const COLUMNS = 4;
const W = 300;
const H = 230;
const M = { left: 46, right: 12, top: 30, bottom: 56 };
const COLORS = ['#1f77b4', '#d62728'];

const fmt = (v: number): string => Number(v.toPrecision(3)).toString();
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Ticks at 0 and multiples of 1, 2 or 5 × 10^k, at most 4 of them above 0. */
function niceTicks(lo: number, hi: number): number[] {
  const raw = hi / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi * (1 + 1e-9); k++) ticks.push(Number((k * step).toPrecision(6)));
  return ticks;
}

function panel(p: Panel, x0: number, y0: number): string {
  const data = p.series.map((s) => Array.from({ length: STEPS + 1 }, (_, t) => s.schedule.valueAt(t)));
  const all = data.flat();
  const yMin = Math.min(0, ...all);
  const yMax = Math.max(...all) * 1.05;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const px = (t: number) => x0 + M.left + (t / STEPS) * pw;
  const py = (v: number) => y0 + M.top + (1 - (v - yMin) / (yMax - yMin)) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + W / 2}" y="${y0 + 18}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${px(0)}" y="${py(yMax)}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (const t of [0, STEPS / 2, STEPS]) {
    out.push(`<text x="${px(t)}" y="${py(yMin) + 14}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<text x="${px(STEPS / 2)}" y="${py(yMin) + 27}" text-anchor="middle" fill="#666">step</text>`);
  const yTicks = niceTicks(yMin, Math.max(...all));
  for (const v of yTicks) {
    out.push(`<line x1="${px(0) - 3}" x2="${px(0)}" y1="${py(v)}" y2="${py(v)}" stroke="#999"/>`);
    out.push(`<text x="${px(0) - 5}" y="${py(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  data.forEach((values, i) => {
    const points = values.map((v, t) => `${px(t).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${points}" fill="none" stroke="${COLORS[i]}" stroke-width="1.5"/>`);
    const label = p.series[i].label;
    if (label) {
      const ly = y0 + H - 8;
      const lx = x0 + M.left + i * (pw / 2);
      out.push(`<line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLORS[i]}" stroke-width="2"/>`);
      out.push(`<text x="${lx + 20}" y="${ly}">${esc(label)}</text>`);
    }
  });
  return out.join('\n');
}

const rows = Math.ceil(PANELS.length / COLUMNS);
const body = PANELS.map((p, i) => panel(p, (i % COLUMNS) * W, Math.floor(i / COLUMNS) * H)).join('\n');
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${COLUMNS * W}" height="${rows * H}" ` +
  `viewBox="0 0 ${COLUMNS * W} ${rows * H}" font-family="sans-serif" font-size="10">\n` +
  `<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;

const out = process.argv[2] ?? 'docs/schedules.svg';
writeFileSync(out, svg);
console.log(`wrote ${out} (${PANELS.length} schedules, steps 0-${STEPS})`);
