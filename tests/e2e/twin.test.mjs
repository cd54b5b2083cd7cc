// End-to-end: a real gateway (built-in simulator, sped up), the real viewer
// bundle, Debian's headless Chromium. Run by `cargo xtask test`, which builds
// both and passes their paths in the environment.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
import { required, startServer, launchBrowser, waitFor, state, clickAsset } from './harness.mjs';

const LINE = required('LINETWIN_LINE');
const SCREENSHOT = process.env.LINETWIN_SCREENSHOT || 'e2e-screenshot.png';
const REPORT = process.env.LINETWIN_REPORT;
// Simulated seconds per wall second. At 1 the scripted fault (20 s onset)
// starts 20 s after the gateway: a margin for a slow machine to load the
// page and see the asset healthy first. The envelope diagnosis flags the
// fault within seconds of its onset, long before the velocity moves.
const SPEEDUP = 1;
const ZONE_ORDER = ['none', 'stale', 'A', 'B', 'C', 'D'];

describe('linetwin in headless Chromium', () => {
  let server;
  let browser;
  let page;
  let faultedAsset;
  const report = {};
  const consoleErrors = [];

  before(async () => {
    server = await startServer(['--line', LINE, '--speedup', String(SPEEDUP), '--block-interval', '1', '--seed', '7']);
    const line = await (await fetch(server.url + 'api/line')).json();
    const faultedSensor = line.simulation.faults[0].sensor;
    faultedAsset = line.assets.find((a) => a.sensors.some((s) => s.id === faultedSensor)).id;

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    // Collect the page's CustomEvents from the very start.
    await page.addInitScript(() => {
      window.__events = [];
      for (const name of ['linetwin:selection', 'linetwin:zone', 'linetwin:alarm']) {
        window.addEventListener(name, (e) => window.__events.push({ name, detail: e.detail }));
      }
    });
    const loadStarted = Date.now();
    await page.goto(server.url);
    // SwiftShader renders a few frames per second and the module is large.
    await waitFor(page, 'the first frame with the line', () => window.linetwin && window.linetwin.state().first_frame_ms, 240000);
    report.wall_ms_to_first_frame = Date.now() - loadStarted;
    report.first_frame_ms = (await state(page)).first_frame_ms;
  });

  after(async () => {
    if (page) await page.screenshot({ path: SCREENSHOT }).catch(() => {});
    await browser?.close();
    server?.child.kill('SIGTERM');
    if (REPORT) {
      mkdirSync(dirname(REPORT), { recursive: true });
      writeFileSync(REPORT, JSON.stringify({ ...report, console_errors: consoleErrors }, null, 2));
    }
  });

  test('the canvas shows a rendered scene, not a blank page', async () => {
    const png = PNG.sync.read(await page.locator('#linetwin-canvas').screenshot());
    const colours = new Set();
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < png.data.length; i += 4 * 7) {
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      colours.add((r << 16) | (g << 8) | b);
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      sum += luma;
      sumSq += luma * luma;
    }
    const n = png.data.length / (4 * 7);
    const spread = Math.sqrt(sumSq / n - (sum / n) ** 2);
    report.distinct_colours = colours.size;
    assert.ok(colours.size > 200, `only ${colours.size} distinct colours: the canvas looks blank`);
    assert.ok(spread > 10, `luminance spread ${spread.toFixed(1)} is too flat for a 3D scene`);
  });

  test('the stream connects and readings arrive', async () => {
    await waitFor(page, 'a connected stream with readings, and zones on most assets',
      () => {
        const s = window.linetwin.state();
        const zoned = Object.values(s.assets).filter((a) => ['A', 'B', 'C', 'D'].includes(a.zone));
        return s.connection === 'connected' && s.readings > 0 && s.waveforms > 0 && zoned.length >= 10;
      }, 90000);
    const s = await state(page);
    assert.equal(s.line_id, 'bottling-line-1');
    assert.equal(s.frames.rejected, 0, 'the gateway sends only valid frames');
  });

  test('a click on a component selects it and tells the page', async () => {
    report.clicks_to_select = await clickAsset(page, faultedAsset);
    const events = await page.evaluate(() => window.__events.filter((e) => e.name === 'linetwin:selection'));
    assert.deepEqual(events.at(-1).detail, { asset: faultedAsset });
  });

  test('the faulted asset visibly degrades', async () => {
    const first = (await state(page)).assets[faultedAsset].zone;
    report.first_zone_seen = first;
    await waitFor(page, `${faultedAsset} to reach zone C or D`,
      (id) => ['C', 'D'].includes(window.linetwin.state().assets[id].zone), 180000, faultedAsset);
    const zoneEvents = await page.evaluate((id) => window.__events.filter((e) => e.name === 'linetwin:zone' && e.detail.asset === id).map((e) => e.detail.zone), faultedAsset);
    report.zone_history = zoneEvents;
    const ranks = zoneEvents.map((z) => ZONE_ORDER.indexOf(z));
    assert.ok(ranks.length >= 2, `expected a zone history, got ${JSON.stringify(zoneEvents)}`);
    assert.ok(Math.max(...ranks) > ranks.find((r) => r >= 2), `the zone never worsened: ${JSON.stringify(zoneEvents)}`);
    const others = Object.entries((await state(page)).assets).filter(([id]) => id !== faultedAsset);
    const unwell = others.filter(([, a]) => !['A', 'B'].includes(a.zone)).map(([id, a]) => `${id}: ${a.zone} (${a.why})`);
    assert.ok(others.length >= 10, `expected the other assets, got ${others.length}`);
    assert.deepEqual(unwell, [], 'every other asset stays healthy');
  });

  test('an alarm names the faulted asset, its inspector explains it, and it can be acknowledged', async () => {
    const found = await waitFor(page, `an alarm for ${faultedAsset}`,
      (id) => window.linetwin.state().alarms.find((a) => a.asset === id), 60000, faultedAsset);
    const alarm = await found.jsonValue();
    assert.ok(['warning', 'critical'].includes(alarm.severity));
    const events = await page.evaluate(() => window.__events.filter((e) => e.name === 'linetwin:alarm'));
    assert.ok(events.some((e) => e.detail.asset === faultedAsset), 'the page heard a linetwin:alarm event');
    // Select it here, whatever an earlier test left selected: its inspector shows diagnosed spectra.
    await page.evaluate(() => window.linetwin.select(null));
    await waitFor(page, 'no selection', () => window.linetwin.state().selection === null, 30000);
    await page.evaluate((id) => window.linetwin.select(id), faultedAsset);
    await waitFor(page, 'the inspector with spectra',
      (id) => { const i = window.linetwin.state().inspector; return i && i.asset === id && i.sensors_with_spectra > 0; }, 30000, faultedAsset);
    const s = await state(page);
    report.faulted_asset = { ...s.assets[faultedAsset] };
    assert.equal(s.assets[faultedAsset].verdict, 'outer_race', `diagnosis: ${s.assets[faultedAsset].why}`);
    await page.evaluate((id) => window.linetwin.acknowledge(id), alarm.id);
    await waitFor(page, 'the alarm acknowledged',
      (id) => window.linetwin.state().alarms.find((a) => a.id === id).acknowledged, 30000, alarm.id);
    // The gateway runs the same twin on the same frames, with no browser
    // needed: its record has the alarm too, and keeps the acknowledgement.
    const record = await page.evaluate(async () => (await fetch('api/alarms')).json());
    const theirs = record.alarms.filter((a) => a.asset === faultedAsset && ['warning', 'critical'].includes(a.severity));
    assert.ok(theirs.length > 0, `the gateway's record has an alarm for ${faultedAsset}: ${JSON.stringify(record.alarms)}`);
    report.gateway_alarm_ids = theirs.map((a) => a.id);
    report.browser_alarm_id = alarm.id;
    // Equal unless the browser skipped the very block that raised it (latest wins when it lags).
    report.same_alarm_id_in_gateway = theirs.some((a) => a.id === alarm.id);
    if (report.same_alarm_id_in_gateway) {
      await waitFor(page, 'the acknowledgement back from the gateway\'s record',
        (id) => window.linetwin.state().alarms.find((a) => a.id === id).acknowledged_by === 'viewer', 30000, alarm.id);
    }
    // The gateway's record keeps each sensor's baseline and every viewer takes it:
    // a reload or a restart never learns a worn machine as normal.
    const sensors = await page.evaluate(async () => (await fetch('api/sensors')).json());
    const recorded = sensors.sensors.find((x) => x.asset === faultedAsset && x.baseline && typeof x.baseline.value_mm_s === 'number');
    assert.ok(recorded, `the gateway recorded a baseline for ${faultedAsset}: ${JSON.stringify(sensors.sensors.filter((x) => x.asset === faultedAsset))}`);
    report.gateway_baseline = { sensor: recorded.sensor, value_mm_s: recorded.baseline.value_mm_s, last: recorded.last };
    await waitFor(page, 'the gateway\'s baseline in the browser',
      (r) => { const b = window.linetwin.state().assets[r.asset].baselines[r.sensor]; return b && b.value_mm_s === r.value; },
      30000, { asset: faultedAsset, sensor: recorded.sensor, value: recorded.baseline.value_mm_s });
    // The viewer reads the record too, episodes from before it loaded included.
    await waitFor(page, 'the gateway\'s alarm record in the viewer',
      (id) => { const r = window.linetwin.state().record; return r && r.alarm_ids.includes(id); }, 30000, theirs[0].id);
    // Asking for maintenance goes to the gateway, which says why it cannot send one here.
    await page.evaluate((id) => window.linetwin.askForMaintenance(id), theirs[0].id);
    const answer = await waitFor(page, 'the gateway\'s answer to a maintenance request',
      () => { const r = window.linetwin.state().record; return r && r.last_answer && r.last_answer.includes('maintenance request') && r.last_answer; }, 30000);
    report.maintenance_request_answer = await answer.jsonValue();
    assert.match(report.maintenance_request_answer, /no webhook is configured/);
    report.diagnosis = s.diagnosis;
    report.data_time = s.data_time;
    assert.equal(s.diagnosis.executor, 'worker', 'diagnosis runs in the Web Worker');
    assert.ok(typeof s.data_time === 'number' && s.data_time > 0, `data time ${s.data_time}`);
    assert.ok(typeof alarm.raised_at === 'number', 'alarms carry their data time');
    report.frames_rendered = s.frames_rendered;
    report.seconds_running = s.now_s;
  });

  test('a what-if for the faulted asset compares plans, recommends one, and forecasts the scene', async () => {
    await waitFor(page, `${faultedAsset} seen degrading, with a remaining life`,
      (id) => { const r = window.linetwin.state().assets[id].rul; return r && r.state === 'degrading' && r.median_h >= 0; }, 180000, faultedAsset);
    const healthy = (await state(page)).assets.M1.rul;
    assert.equal(healthy.state, 'no degradation');
    assert.match(healthy.basis, /rated life/);
    const robot = (await state(page)).assets.R1.rul;
    assert.ok(robot.usage && robot.usage.rate_per_h > 0, `the robot's life by usage: ${JSON.stringify(robot)}`);

    // A large question shows its progress and can be cancelled.
    await page.evaluate((id) => window.linetwin.whatIf({ asset: id, action: 'replace', paths: 200000 }), faultedAsset);
    const moving = await waitFor(page, 'progress of a large what-if',
      () => { const w = window.linetwin.state().what_if; return w.status === 'running' && w.done > 0 && w.done < w.total && w; }, 120000);
    report.what_if_progress_seen = await moving.jsonValue();
    await page.evaluate(() => window.linetwin.cancelWhatIf());
    await waitFor(page, 'the what-if cancelled', () => window.linetwin.state().what_if.status === 'cancelled', 30000);

    const runsBefore = (await state(page)).what_if.runs;
    const started = Date.now();
    await page.evaluate((id) => window.linetwin.whatIf({ asset: id, action: 'replace' }), faultedAsset);
    const progress = [];
    let outcome;
    while (Date.now() - started < 240000) {
      const w = (await state(page)).what_if;
      // The request is taken up in the next frame; until then the state is the cancelled run's.
      if (w.runs === runsBefore) { await page.waitForTimeout(200); continue; }
      if (w.status === 'running') progress.push([w.done ?? 0, w.total ?? 0]);
      if (w.status === 'done') { outcome = w; break; }
      assert.ok(!['failed', 'cancelled'].includes(w.status), `what-if ${w.status}: ${w.error}`);
      await page.waitForTimeout(200);
    }
    assert.ok(outcome, 'the what-if finished within 4 minutes');
    report.what_if_ms = Date.now() - started;
    report.what_if_progress = progress;
    report.what_if = outcome;
    const names = outcome.plans.map((p) => p.plan);
    assert.equal(names[0], 'do nothing');
    assert.ok(names.some((n) => n.includes('now')), JSON.stringify(names));
    assert.equal(names.at(-1), "the twin's proposal");
    assert.ok(outcome.plans.every((p) => p.paths === 10000 && p.has_trajectory), 'every plan ran its paths and kept the trajectory');
    assert.ok(outcome.plans[0].focus.failure_probability_at_horizon > 0.9, 'doing nothing, the faulted asset fails');
    assert.notEqual(outcome.recommendation.plan, 'do nothing', outcome.recommendation.reason);
    assert.ok(outcome.recommendation.reason.length > 20, outcome.recommendation.reason);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-what-if.png') });

    // The scene a month on: replaced now, the asset is predicted healthy
    // (green) though it is red live; doing nothing, it is predicted failed.
    const nowPlan = names.findIndex((n) => n.includes('now'));
    await page.evaluate(() => window.linetwin.whatIfWindow(false));
    const live = await dominantHue(faultedAsset);
    await page.evaluate((plan) => window.linetwin.forecast(30, plan), nowPlan);
    await waitFor(page, 'the forecast at day 30',
      (id) => { const s = window.linetwin.state(); return s.forecast && s.forecast.day === 30 && s.assets[id].forecast; }, 30000, faultedAsset);
    const replaced = (await state(page)).assets[faultedAsset].forecast;
    assert.ok(['A', 'B'].includes(replaced.zone), `replaced now, a month on: ${JSON.stringify(replaced)}`);
    await page.waitForTimeout(3000);
    const forecastHue = await dominantHue(faultedAsset);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-forecast.png') });
    report.hues = { live, forecast: forecastHue };
    assert.ok(forecastHue.green > forecastHue.red, `the forecast paints it green: ${JSON.stringify(report.hues)}`);
    await page.evaluate(() => window.linetwin.forecast(30, 0));
    await waitFor(page, 'the do-nothing forecast',
      (id) => { const s = window.linetwin.state(); return s.forecast && s.forecast.plan === 0 && s.assets[id].forecast; }, 30000, faultedAsset);
    assert.equal((await state(page)).assets[faultedAsset].forecast.zone, 'D');
    await page.evaluate(() => window.linetwin.forecast(null));
    await waitFor(page, 'back to live', () => window.linetwin.state().forecast === null, 30000);
  });

  /** Counts red- and green-dominant pixels around an asset's beacon lamp. */
  async function dominantHue(id) {
    const [x, y] = (await state(page)).motion[id].beacon;
    const png = PNG.sync.read(await page.screenshot({ clip: { x: Math.max(0, x - 12), y: Math.max(0, y - 12), width: 24, height: 24 } }));
    let red = 0;
    let green = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      if (r > 1.4 * g && r > 1.4 * b) red += 1;
      if (g > 1.25 * r && g > 1.1 * b) green += 1;
    }
    return { red, green };
  }
});
