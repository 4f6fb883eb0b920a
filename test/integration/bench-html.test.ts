/**
 * The HTML report opened in a real headless browser (Debian's chromium via playwright-core): the
 * charts are there and drawn from the run's data. A screenshot is kept under test-results/.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/bench/report/types.js';
import { startSimCluster, type BenchSimNode } from './support/bench-sim.js';
import { runCli } from './support/bench-run.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = resolve('test-results/bench');

const HAS_CHROMIUM = existsSync(CHROMIUM);
// Skipped only where no browser is installed, and the name says so (CI installs Debian's chromium).
const TITLE = `bench HTML report in headless chromium${HAS_CHROMIUM ? '' : ` (SKIPPED: no browser at ${CHROMIUM}; apt-get install chromium, or set CHROMIUM_PATH)`}`;

describe.skipIf(!HAS_CHROMIUM)(TITLE, () => {
  let browser: Browser;
  let nodes: BenchSimNode[];
  let report: BenchReport;
  const html = join(OUT, 'bench-report.html');
  const json = join(OUT, 'bench-report.json');

  beforeAll(async () => {
    await rm(OUT, { recursive: true, force: true });
    await mkdir(OUT, { recursive: true });
    nodes = await startSimCluster(3, { latencyMs: 4, slots: 2 });
    nodes[2]!.setLatency(12);
    const run = await runCli([
      ...nodes.flatMap((n) => ['--piston', n.url]),
      '--concurrency', '6', '--duration', '2500ms', '--warmup', '300ms', '--json', json, '--html', html, '--quiet',
    ]);
    expect(run.code).toBe(0);
    report = JSON.parse(await readFile(json, 'utf8')) as BenchReport;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all((nodes ?? []).map((n) => n.close()));
  });

  it('draws every chart from the embedded run data, with no network', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 1200 } });
    const requests: string[] = [];
    const pageErrors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(pathToFileURL(html).href);
    await page.waitForSelector('body[data-charts-drawn="true"]', { timeout: 10_000 });
    expect(pageErrors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);

    // The page's embedded data is the run's report.
    const embedded = await page.$eval('#bench-data', (el) => JSON.parse(el.textContent ?? '{}') as { counts: unknown });
    expect(embedded.counts).toEqual(report.counts);

    // Latency over time: one point per second of the time series, for p50 and p99.
    expect(report.timeline.length).toBeGreaterThanOrEqual(2);
    for (const series of ['p50', 'p99']) {
      const points = await page.$eval(`#chart-latency-over-time polyline[data-series="${series}"]`, (el) => el.getAttribute('points') ?? '');
      expect(points.trim().split(/\s+/)).toHaveLength(report.timeline.length);
    }
    // The p99 line lies on or above the p50 line everywhere (SVG y grows downwards).
    const ys = async (series: string): Promise<number[]> =>
      (await page.$eval(`#chart-latency-over-time polyline[data-series="${series}"]`, (el) => el.getAttribute('points') ?? ''))
        .trim()
        .split(/\s+/)
        .map((p: string) => Number(p.split(',')[1]));
    const [p50y, p99y] = [await ys('p50'), await ys('p99')];
    p99y.forEach((y, i) => expect(y).toBeLessThanOrEqual(p50y[i]! + 0.01));

    // The percentile curve: one point per percentile below 100, rising to the right.
    const curve = await page.$eval('#chart-percentiles polyline[data-series="percentile"]', (el) => el.getAttribute('points') ?? '');
    const curvePoints = curve.trim().split(/\s+/).map((p: string) => p.split(',').map(Number) as [number, number]);
    expect(curvePoints).toHaveLength(report.percentiles.filter((p) => p.percentile < 100).length);
    for (let i = 1; i < curvePoints.length; i++) {
      expect(curvePoints[i]![0]).toBeGreaterThan(curvePoints[i - 1]![0]);
      expect(curvePoints[i]![1]).toBeLessThanOrEqual(curvePoints[i - 1]![1] + 0.01);
    }
    expect(Number(await page.$eval('#chart-percentiles .max-line', (el) => el.getAttribute('data-max-ms')))).toBe(report.latencyMs.max);

    // Nodes: one share bar and one p50/p99 pair per node, sized from the report.
    const shares = await page.$$eval('#chart-nodes rect.node-share-bar', (els) =>
      els.map((el) => ({ node: el.getAttribute('data-node'), share: Number(el.getAttribute('data-share')), width: Number(el.getAttribute('width')) })),
    );
    expect(shares).toHaveLength(report.nodes.length);
    expect(shares.map((s) => s.node)).toEqual(report.nodes.map((n) => n.node));
    expect(shares.map((s) => s.share)).toEqual(report.nodes.map((n) => n.share));
    expect(await page.$$eval('#chart-nodes rect.node-p99-bar', (els) => els.map((el) => Number(el.getAttribute('data-ms'))))).toEqual(
      report.nodes.map((n) => n.latency.p99),
    );
    // The slow node's p50 bar is the longest.
    const p50Widths = await page.$$eval('#chart-nodes rect.node-p50-bar', (els) => els.map((el) => Number(el.getAttribute('width'))));
    const slowest = report.nodes.reduce((best, n, i) => (n.latency.p50 > report.nodes[best]!.latency.p50 ? i : best), 0);
    expect(Math.max(...p50Widths)).toBe(p50Widths[slowest]);

    // Drawn, not just present: the charts have a rendered size.
    for (const id of ['chart-latency-over-time', 'chart-throughput-over-time', 'chart-percentiles', 'chart-nodes']) {
      const box = await page.locator(`#${id}`).boundingBox();
      expect(box?.width).toBeGreaterThan(100);
      expect(box?.height).toBeGreaterThan(50);
    }
    await page.screenshot({ path: join(OUT, 'bench-report.png'), fullPage: true });
    expect(existsSync(join(OUT, 'bench-report.png'))).toBe(true);
    await page.close();
  });
});
