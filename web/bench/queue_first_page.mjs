// Measures, in headless Chromium, the time from navigation to the first page of the incident
// queue rendered, over a store of N incidents (default 10,000), against the raw API fetch of the
// same page in the same browser as the baseline.
//
//   node web/bench/queue_first_page.mjs [--incidents 10000] [--runs 7]
//   (HIKESHI_BINARY defaults to build/release/src/app/hikeshi)
import { performance } from 'node:perf_hooks';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const N = opt('incidents', 10_000);
const RUNS = opt('runs', 7);
process.env.HIKESHI_BINARY ||= resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'release', 'src', 'app', 'hikeshi');

const { Hikeshi, launchBrowser, login, USER_PASSWORD } = await import('../tests/harness.mjs');

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const h = await Hikeshi.start();
try {
  h.cli(['constituency', 'add', '--name', 'univ-a', '--cidr', '198.51.100.0/24']);
  h.addUser('alice', { role: 'handler', all: true });
  const token = h.token('alice');
  const categories = ['Phishing', 'Scan', 'Intrusion', 'DDoS', 'Virus', 'Spam'];
  const seedStart = performance.now();
  // Seeding through the API, 8 requests in flight.
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < N; i = next++) {
      const r = await h.api('POST', '/api/v1/incidents', token, {
        title: `ベンチマーク用インシデント ${i} / benchmark incident ${i}`,
        description: `Seeded incident number ${i} for the queue benchmark.`,
        category: categories[i % categories.length],
        constituency: 'univ-a',
        impact: 1 + (i % 4),
        urgency: 1 + ((i >> 2) % 4),
        observables: [{ type: 'ipv4', value: `198.51.100.${i % 250}` }],
      });
      if (r.status !== 201) throw new Error(`seeding failed at ${i}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const seedSeconds = (performance.now() - seedStart) / 1000;
  console.log(`seeded ${N} incidents in ${seedSeconds.toFixed(1)} s (${(N / seedSeconds).toFixed(0)}/s)`);

  const browser = await launchBrowser();
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page, h.url, 'alice', USER_PASSWORD);
  await page.locator('table.queue tbody tr').first().waitFor();

  const ui = [];
  const api = [];
  for (let run = 0; run < RUNS + 1; ++run) {
    // Baseline: the same first page (50 incidents) fetched and parsed by the page's own fetch.
    const apiMs = await page.evaluate(async () => {
      const t0 = performance.now();
      const r = await fetch('/api/v1/incidents?limit=50', { credentials: 'same-origin' });
      const body = await r.json();
      if (body.items.length !== 50) throw new Error('short page');
      return performance.now() - t0;
    });
    // The UI: a full navigation to /incidents until the first queue page is in the DOM.
    await page.goto(h.url + '/incidents', { waitUntil: 'commit' });
    await page.locator('table.queue tbody tr').nth(49).waitFor();
    const uiMs = await page.evaluate(() => {
      const mark = performance.getEntriesByName('hikeshi:queue-rendered')[0];
      return mark.startTime; // milliseconds since navigation start
    });
    if (run > 0) {
      // The first run warms the server's and the browser's caches.
      ui.push(uiMs);
      api.push(apiMs);
    }
  }
  await browser.close();
  console.log(`first queue page over ${N} incidents, median of ${RUNS} runs:`);
  console.log(`  navigation to first page rendered (UI): ${median(ui).toFixed(1)} ms  [${ui.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`  raw API fetch of the same page (baseline): ${median(api).toFixed(1)} ms  [${api.map((x) => x.toFixed(0)).join(', ')}]`);
} finally {
  await h.stop();
}
