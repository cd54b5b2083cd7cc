// The kiosk soak benchmark (`cargo xtask soak`): a kiosk page in headless
// Chromium against a sped-up gateway for at least a simulated day and at
// least an hour of wall time. The gateway is restarted twice and the WebGL
// context is lost once on purpose. Every simulated hour it samples the JS
// heap, the wasm memory and the history store; the report is the curve.
// The kiosk keeps a day of history (`&history=1d`, LINETWIN_SOAK_HISTORY) so
// that the store reaches its bound within the run and the curve after that
// shows whether anything else grows.
// A benchmark, not a test: it reports whether memory levelled off and
// fails only when the kiosk did not come back by itself.
import { mkdtempSync, cpSync, chmodSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { required, startServer, launchBrowser, waitFor } from './harness.mjs';

const LINE = required('LINETWIN_LINE');
const REPORT = required('LINETWIN_SOAK_REPORT');
const WALL_MIN = Number(process.env.LINETWIN_SOAK_MINUTES || 62);
const SPEEDUP = Number(process.env.LINETWIN_SOAK_SPEEDUP || 60);
const HISTORY = process.env.LINETWIN_SOAK_HISTORY || '1d';
const MIN_SIM_H = Number(process.env.LINETWIN_SOAK_HOURS || 24);
const SAMPLE_WALL_S = 3600 / SPEEDUP; // one simulated hour
const ARGS = ['--line', LINE, '--speedup', String(SPEEDUP), '--seed', '7'];

// The bundle and the gateway are copied so that rebuilding either during the
// soak does not hand the kiosk a different build when it reloads, or a
// restarted gateway of another version.
const soakDir = mkdtempSync(join(tmpdir(), 'linetwin-soak-'));
const webRoot = join(soakDir, 'web');
cpSync(required('LINETWIN_WEB_ROOT'), webRoot, { recursive: true });
process.env.LINETWIN_WEB_ROOT = webRoot;
const serverCopy = join(soakDir, 'linetwin-server');
cpSync(required('LINETWIN_SERVER_BIN'), serverCopy);
chmodSync(serverCopy, 0o755);
process.env.LINETWIN_SERVER_BIN = serverCopy;

const started = Date.now();
const wallS = () => (Date.now() - started) / 1000;
const log = (text) => console.error(`soak [${(wallS() / 60).toFixed(1)} min] ${text}`);

let server = await startServer(ARGS);
const port = Number(new URL(server.url).port);
let simBeforeThisRun = 0; // simulated seconds of the gateways already stopped
let runStarted = Date.now();
const simulatedS = () => simBeforeThisRun + SPEEDUP * (Date.now() - runStarted) / 1000;

const browser = await launchBrowser(['--enable-precise-memory-info']);
const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
await page.goto(server.url + `?kiosk&tour=20s&history=${HISTORY}`);
await waitFor(page, 'the kiosk\'s first frame', () => window.linetwin && window.linetwin.state().first_frame_ms, 300000);
log('kiosk up');

const events = [];
const samples = [];
// The context loss comes first, so the page that follows lives for most of
// the run and its curve shows whether memory levels off.
const plan = [
  { at: 1 / 6, what: 'webgl context lost' },
  { at: 1 / 3, what: 'gateway restart' },
  { at: 2 / 3, what: 'gateway restart' },
];

async function restartGateway() {
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  simBeforeThisRun = simulatedS();
  await new Promise((resolve) => setTimeout(resolve, 10000)); // ten seconds without a gateway
  server = await startServer(ARGS, port);
  runStarted = Date.now();
}

async function loseContext() {
  await Promise.all([
    page.waitForNavigation({ timeout: 120000 }),
    page.evaluate(() => {
      const gl = document.getElementById('linetwin-canvas').getContext('webgl2');
      gl.getExtension('WEBGL_lose_context').loseContext();
    }),
  ]);
}

/// Waits until the kiosk shows live data again, on its own; returns seconds.
async function backWithoutAClick(what) {
  const from = Date.now();
  const before = await page.evaluate(() => window.linetwin?.state().readings ?? 0).catch(() => 0);
  await waitFor(page, `the kiosk back after ${what}`, (readings) => {
    const s = window.linetwin && window.linetwin.state();
    return s && s.first_frame_ms && s.kiosk && s.connection === 'connected' && s.readings > readings + 20;
  }, 600000, what === 'webgl context lost' ? 0 : before);
  return (Date.now() - from) / 1000;
}

async function sample(lastFrames) {
  const s = await page.evaluate(() => {
    const st = window.linetwin.state();
    return {
      data_time: st.data_time, connection: st.connection, frames_rendered: st.frames_rendered,
      memory: st.memory, history: st.history, alarms: st.alarms.length,
      reloads: JSON.parse(sessionStorage.getItem('linetwin-kiosk-reloads') || '[]').length,
    };
  });
  return {
    wall_min: wallS() / 60,
    simulated_h: simulatedS() / 3600,
    data_time_h: s.data_time / 3600,
    js_heap_mb: s.memory.js_heap_bytes / 1048576,
    wasm_mb: s.memory.wasm_bytes / 1048576,
    history_mb: s.history ? s.history.bytes / 1048576 : null,
    history_bound_mb: s.history ? s.history.bound_bytes / 1048576 : null,
    history_span_h: s.history ? s.history.span_s / 3600 : null,
    alarms: s.alarms,
    connection: s.connection,
    frames: s.frames_rendered,
    fps: lastFrames && s.frames_rendered >= lastFrames.frames
      ? (s.frames_rendered - lastFrames.frames) / ((Date.now() - lastFrames.at) / 1000) : null,
    reloads: s.reloads,
  };
}

let last = null;
let nextSampleAt = 0;
while (wallS() < WALL_MIN * 60 || simulatedS() < MIN_SIM_H * 3600) {
  const due = plan.find((p) => !p.done && wallS() >= p.at * WALL_MIN * 60);
  if (due) {
    due.done = true;
    log(due.what);
    const at = { wall_min: wallS() / 60, simulated_h: simulatedS() / 3600 };
    if (due.what === 'gateway restart') await restartGateway(); else await loseContext();
    const recovered_s = await backWithoutAClick(due.what);
    events.push({ what: due.what, ...at, recovered_s });
    log(`${due.what}: back after ${recovered_s.toFixed(0)} s`);
    last = null;
    continue;
  }
  if (wallS() >= nextSampleAt) {
    try {
      const point = await sample(last);
      samples.push(point);
      last = { frames: point.frames, at: Date.now() };
      log(`${point.simulated_h.toFixed(1)} h: heap ${point.js_heap_mb.toFixed(1)} MB, wasm ${point.wasm_mb.toFixed(1)} MB, history ${point.history_mb?.toFixed(2)} MB, ${point.fps?.toFixed(2) ?? '-'} fps`);
    } catch (error) {
      log(`sample failed: ${error.message}`);
    }
    while (nextSampleAt <= wallS()) nextSampleAt += SAMPLE_WALL_S;
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
}

// Levelling off: the growth over the last third against the first third,
// within the same page (a reload starts the heap again).
const page0 = samples.filter((p) => p.reloads === samples.at(-1).reloads);
const third = Math.max(1, Math.floor(page0.length / 3));
const slope = (points, key) => points.length < 2 ? null
  : (points.at(-1)[key] - points[0][key]) / (points.at(-1).simulated_h - points[0].simulated_h);
// Once the history has stopped growing (every ring that gets data is full),
// nothing of the viewer's own should grow.
const settledHistory = page0.at(-1)?.history_mb ?? null;
const full = page0.filter((p) => p.history_mb !== null && p.history_mb >= settledHistory - 0.01);
const report = {
  speedup: SPEEDUP,
  history: HISTORY,
  wall_min: wallS() / 60,
  simulated_h: simulatedS() / 3600,
  events,
  samples,
  growth_mb_per_simulated_h: {
    wasm_first_third: slope(page0.slice(0, third), 'wasm_mb'),
    wasm_last_third: slope(page0.slice(-third), 'wasm_mb'),
    js_heap_first_third: slope(page0.slice(0, third), 'js_heap_mb'),
    js_heap_last_third: slope(page0.slice(-third), 'js_heap_mb'),
    wasm_with_history_full: slope(full, 'wasm_mb'),
    wasm_with_history_full_over_h: full.length < 2 ? null : full.at(-1).simulated_h - full[0].simulated_h,
    wasm_with_history_full_mb: full.length < 2 ? null : [full[0].wasm_mb, full.at(-1).wasm_mb],
  },
  peak: {
    wasm_mb: Math.max(...samples.map((p) => p.wasm_mb)),
    js_heap_mb: Math.max(...samples.map((p) => p.js_heap_mb)),
    history_mb: Math.max(...samples.map((p) => p.history_mb ?? 0)),
  },
};
writeFileSync(REPORT, JSON.stringify(report, null, 2));
console.log('| simulated h | wall min | JS heap MB | wasm MB | history MB | fps | reloads |');
console.log('|---|---|---|---|---|---|---|');
for (const p of samples) {
  console.log(`| ${p.simulated_h.toFixed(1)} | ${p.wall_min.toFixed(1)} | ${p.js_heap_mb.toFixed(1)} | ${p.wasm_mb.toFixed(1)} | ${p.history_mb?.toFixed(2)} | ${p.fps?.toFixed(2) ?? '-'} | ${p.reloads} |`);
}
console.log(JSON.stringify({ events, growth: report.growth_mb_per_simulated_h, peak: report.peak }));
await browser.close();
server.child.kill('SIGTERM');
process.exit(0);
