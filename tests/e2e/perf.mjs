// Browser benchmarks, run by `cargo xtask bench`: numbers for the README,
// never asserted. Each part starts its own gateway.
//   1. diagnosis throughput while rendering, and frames/s with diagnosis off;
//   2. reading to colour: a producer on /ws/ingest sends a block that moves an
//      asset to another zone; time to the page's linetwin:zone event and to
//      the next rendered frame, at 1280x800 and at a small viewport;
//   3. time to the first frame;
//   4. a generated line of 50 assets and 150 vibration sensors at 10x.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { required, startServer, launchBrowser, waitFor, state, openViewer } from './harness.mjs';

const LINE = required('LINETWIN_LINE');
const REPORT = process.env.LINETWIN_BENCH_REPORT || 'bench-browser.json';
const SECONDS = Number(process.env.LINETWIN_BENCH_SECONDS || 40);
const TRIES = 20;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function sample(page) {
  const s = await state(page);
  return { wall: Date.now(), frames: s.frames_rendered, samples: s.diagnosis.samples, waveforms: s.waveforms, s };
}

/// Offered and diagnosed samples per second, and frames per second, over SECONDS.
async function throughput(browser, query, blockSamples) {
  const server = await startServer(['--line', LINE, '--block-interval', '0.2', '--seed', '3']);
  try {
    const page = await openViewer(browser, server.url + query);
    await waitFor(page, 'blocks arriving', () => window.linetwin.state().waveforms > 50, 120000);
    await sleep(5000);
    const a = await sample(page);
    await sleep(SECONDS * 1000);
    const b = await sample(page);
    const wall = (b.wall - a.wall) / 1000;
    await page.close();
    return {
      query,
      seconds: wall,
      offered_samples_per_s: ((b.waveforms - a.waveforms) * blockSamples) / wall,
      diagnosed_samples_per_s: (b.samples - a.samples) / wall,
      frames_per_s: (b.frames - a.frames) / wall,
      superseded: b.s.diagnosis.superseded,
      executor: b.s.diagnosis.executor,
      slowest_block_ms: b.s.diagnosis.slowest_block_ms,
    };
  } finally {
    server.child.kill('SIGTERM');
  }
}

/// A producer page sends alternating quiet and loud blocks for one sensor;
/// the viewer page records when each zone change is announced and the frame after it.
async function latency(browser, viewport) {
  const server = await startServer(['--line', LINE, '--no-simulator']);
  try {
    const viewer = await browser.newPage({ viewport });
    await viewer.addInitScript(() => {
      window.__zones = [];
      window.addEventListener('linetwin:zone', (e) => {
        const entry = { asset: e.detail.asset, zone: e.detail.zone, event_ms: Date.now(), frame_ms: null };
        window.__zones.push(entry);
        requestAnimationFrame(() => { entry.frame_ms = Date.now(); });
      });
      window.__frameTimes = [];
      const tick = () => { window.__frameTimes.push(performance.now()); requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
    });
    await viewer.goto(server.url);
    await waitFor(viewer, 'the first frame', () => window.linetwin && window.linetwin.state().first_frame_ms, 240000);
    const producer = await browser.newPage();
    await producer.goto(server.url + 'api/line');
    await producer.evaluate(async () => {
      window.__ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws/ingest');
      window.__ws.binaryType = 'arraybuffer';
      await new Promise((resolve, reject) => { window.__ws.onopen = resolve; window.__ws.onerror = reject; });
      // One LTW1 block: a 137 Hz tone of the given velocity, mm/s r.m.s.
      window.__send = (sensor, tStart, velocityMmS) => {
        const rate = 12800; const n = 16384; const f = 137;
        const id = new TextEncoder().encode(sensor);
        const pad = (4 - ((28 + id.length) % 4)) % 4;
        const buffer = new ArrayBuffer(28 + id.length + pad + 4 * n);
        const view = new DataView(buffer);
        new Uint8Array(buffer, 0, 4).set([76, 84, 87, 49]);
        view.setUint8(4, 1); view.setUint8(5, 1); view.setUint16(6, id.length, true);
        view.setFloat64(8, tStart, true); view.setFloat32(16, rate, true);
        view.setFloat32(20, NaN, true); view.setUint32(24, n, true);
        new Uint8Array(buffer, 28, id.length).set(id);
        const amplitudeG = (velocityMmS / 1000) * 2 * Math.PI * f * Math.SQRT2 / 9.80665;
        const samples = new Float32Array(buffer, 28 + id.length + pad, n);
        for (let i = 0; i < n; i++) samples[i] = amplitudeG * Math.sin(2 * Math.PI * f * i / rate);
        window.__ws.send(buffer);
        return Date.now();
      };
    });
    const tries = [];
    let t = Date.now() / 1000;
    for (let i = 0; i < TRIES + 1; i++) {
      const loud = i % 2 === 0;
      const before = await viewer.evaluate(() => window.__zones.length);
      t += 2;
      const sent = await producer.evaluate(([tStart, v]) => window.__send('M1-DE-V', tStart, v), [t, loud ? 12 : 0.4]);
      await waitFor(viewer, 'a zone change', (n) => window.__zones.length > n && window.__zones.at(-1).frame_ms, 60000, before);
      const zone = await viewer.evaluate(() => window.__zones.at(-1));
      // The first change is from "none": not a move between zones.
      if (i > 0) tries.push({ to: zone.zone, event_ms: zone.event_ms - sent, frame_ms: zone.frame_ms - sent });
    }
    const frameTimes = await viewer.evaluate(() => window.__frameTimes.slice(-200));
    const gaps = frameTimes.slice(1).map((x, i) => x - frameTimes[i]);
    await viewer.close();
    await producer.close();
    const events = tries.map((x) => x.event_ms);
    const frames = tries.map((x) => x.frame_ms);
    return {
      viewport,
      tries: tries.length,
      event_ms: { median: percentile(events, 0.5), p95: percentile(events, 0.95) },
      next_frame_ms: { median: percentile(frames, 0.5), p95: percentile(frames, 0.95) },
      frame_time_ms: { median: percentile(gaps, 0.5), p95: percentile(gaps, 0.95) },
      zones_seen: [...new Set(tries.map((x) => x.to))],
    };
  } finally {
    server.child.kill('SIGTERM');
  }
}

/// A line of 50 assets with 3 vibration sensors each (150), made from the demo's.
function scaleLine(path) {
  const demo = JSON.parse(readFileSync(LINE, 'utf8'));
  const assets = [];
  for (let i = 0; assets.length < 50; i++) {
    const base = demo.assets[i % demo.assets.length];
    const rep = Math.floor(i / demo.assets.length);
    const asset = structuredClone(base);
    asset.id = `${base.id}-${rep}`;
    asset.name = `${base.name} #${rep + 1}`;
    asset.position_m = [base.position_m[0], base.position_m[1], base.position_m[2] + rep * 14];
    const template = base.sensors.find((s) => s.kind === 'vibration');
    const others = base.sensors.filter((s) => s.kind !== 'vibration');
    asset.sensors = [
      ...[0, 1, 2].map((k) => ({ ...structuredClone(template), id: `${asset.id}-V${k}` })),
      ...others.map((s) => ({ ...structuredClone(s), id: `${asset.id}-${s.id}` })),
    ];
    assets.push(asset);
  }
  const line = { ...demo, id: 'scale-line', name: 'Scale test: 50 assets, 150 vibration sensors', assets, flows: [],
    simulation: { faults: [{ ...demo.simulation.faults[0], sensor: `${assets.find((a) => a.id.startsWith('P1-')).id}-V0` }] } };
  writeFileSync(path, JSON.stringify(line));
  return line;
}

/// The scale line at a speed-up: does the page keep up, and what does it hold?
async function scale(browser, minutes, speedup) {
  const path = join(dirname(REPORT), 'scale-line.json');
  scaleLine(path);
  const server = await startServer(['--line', path, '--speedup', String(speedup), '--seed', '5']);
  try {
    const page = await openViewer(browser, server.url);
    const samples = [];
    const started = Date.now();
    while (Date.now() - started < minutes * 60000) {
      await sleep(30000);
      const s = await state(page);
      samples.push({
        wall_s: (Date.now() - started) / 1000, data_time: s.data_time, waveforms: s.waveforms,
        diagnosed: s.diagnosis.blocks, superseded: s.diagnosis.superseded, in_flight: s.diagnosis.in_flight,
        frames: s.frames_rendered, wasm_mb: s.memory.wasm_bytes / 1e6, js_heap_mb: s.memory.js_heap_bytes / 1e6,
      });
      console.log('scale', JSON.stringify(samples.at(-1)));
    }
    await page.close();
    return { assets: 50, vibration_sensors: 150, speedup, samples };
  } finally {
    server.child.kill('SIGTERM');
  }
}

async function firstFrame(browser) {
  const server = await startServer(['--line', LINE]);
  try {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const page = await openViewer(browser, server.url);
      runs.push((await state(page)).first_frame_ms);
      await page.close();
    }
    return { runs_ms: runs, median_ms: percentile(runs, 0.5) };
  } finally {
    server.child.kill('SIGTERM');
  }
}

// LINETWIN_BENCH_ONLY=first_frame,latency,... runs a subset.
const only = (process.env.LINETWIN_BENCH_ONLY || '').split(',').filter(Boolean);
const wanted = (part) => only.length === 0 || only.includes(part);
const browser = await launchBrowser();
const report = { date: new Date().toISOString(), web_root: required('LINETWIN_WEB_ROOT') };
try {
  if (wanted('first_frame')) {
    report.first_frame = await firstFrame(browser);
    console.log('first frame', JSON.stringify(report.first_frame));
  }
  if (wanted('latency')) {
    report.latency_small = await latency(browser, { width: 320, height: 200 });
    console.log('latency (small)', JSON.stringify(report.latency_small));
    report.latency = await latency(browser, { width: 1280, height: 800 });
    console.log('latency', JSON.stringify(report.latency));
  }
  if (wanted('throughput')) {
    report.throughput = await throughput(browser, '', 16384);
    console.log('throughput', JSON.stringify(report.throughput));
    report.throughput_off = await throughput(browser, '?diagnosis=off', 16384);
    console.log('diagnosis off', JSON.stringify(report.throughput_off));
  }
  const scaleMinutes = Number(process.env.LINETWIN_BENCH_SCALE_MINUTES || 5);
  if (wanted('scale') && scaleMinutes > 0) report.scale = await scale(browser, scaleMinutes, 10);
} finally {
  await browser.close();
  writeFileSync(REPORT, JSON.stringify(report, null, 2));
}
