// End-to-end: a kiosk screen. The tour visits the faulted asset and shows
// its banner; machines move at the speeds the data gives and stop when it
// goes stale; after the gateway restarts the kiosk is back without a click;
// a lost WebGL context reloads the page by itself, still a kiosk.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { required, startServer, launchBrowser, waitFor, state } from './harness.mjs';

const LINE = required('LINETWIN_LINE');
const SCREENSHOT = (process.env.LINETWIN_SCREENSHOT || 'e2e-screenshot.png').replace(/\.png$/, '-kiosk.png');
const ARGS = ['--line', LINE, '--speedup', '1', '--block-interval', '1', '--seed', '7'];

describe('a kiosk in headless Chromium', () => {
  let server;
  let browser;
  let page;
  let port;
  let faultedAsset;

  before(async () => {
    server = await startServer(ARGS);
    port = Number(new URL(server.url).port);
    const line = await (await fetch(server.url + 'api/line')).json();
    const faultedSensor = line.simulation.faults[0].sensor;
    faultedAsset = line.assets.find((a) => a.sensors.some((s) => s.id === faultedSensor)).id;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(server.url + '?kiosk&tour=3s');
    await waitFor(page, 'the kiosk\'s first frame', () => window.linetwin && window.linetwin.state().first_frame_ms && window.linetwin.state().kiosk, 240000);
  });

  after(async () => {
    if (page) await page.screenshot({ path: SCREENSHOT }).catch(() => {});
    await browser?.close();
    server?.child.kill('SIGTERM');
  });

  test('the tour visits the faulted asset and the banner names it', async () => {
    const seen = await waitFor(page, `the tour at ${faultedAsset}`,
      (id) => {
        const k = window.linetwin.state().kiosk;
        return k.stop.kind === 'asset' && k.stop.asset === id && k.attention.some((a) => a.asset === id) && k;
      }, 240000, faultedAsset);
    const kiosk = await seen.jsonValue();
    assert.equal(kiosk.tour_s, 3);
    assert.equal(kiosk.attention[0].asset, faultedAsset, 'the worst asset comes first');
    assert.ok(kiosk.attention[0].why.length > 10, kiosk.attention[0].why);
    assert.ok(kiosk.counts.c + kiosk.counts.d >= 1, JSON.stringify(kiosk.counts));
    await page.screenshot({ path: SCREENSHOT });
    // The tour goes on to the overview and comes back.
    await waitFor(page, 'the overview', () => window.linetwin.state().kiosk.stop.kind === 'overview', 60000);
  });

  test('the scene moves at the speeds the data gives', async () => {
    await waitFor(page, 'the robot counting cycles',
      () => { const m = window.linetwin.state().motion; return m && m.R1.pace.state === 'cycling'; }, 120000);
    const first = (await state(page)).motion;
    await page.waitForTimeout(3000);
    const later = (await state(page)).motion;
    assert.equal(later.M1.pace.state, 'turning', JSON.stringify(later.M1));
    const rpm = later.M1.pace.rev_per_s * 60;
    assert.ok(rpm > 1300 && rpm < 1600, `M1 turns near its 1455 rpm: ${rpm}`);
    assert.ok(later.M1.turns > first.M1.turns, 'the motor turns');
    assert.ok(later.CV1.belt_m > first.CV1.belt_m, 'bottles travel on the infeed');
    assert.ok(later.R1.turns > first.R1.turns, 'the robot swings');
    assert.ok(later.R1.pace.cycles_per_s > 0.1 && later.R1.pace.cycles_per_s < 0.5, JSON.stringify(later.R1.pace));
    assert.ok(Array.isArray(later.M1.beacon), 'the beacon is on screen');
  });

  test('after the gateway restarts the kiosk is back without a click', async () => {
    const before = await state(page);
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    await waitFor(page, 'the kiosk to notice the gateway is gone', () => window.linetwin.state().connection !== 'connected', 60000);
    // With no data the line is shown standing still, not turning on as if fed.
    await waitFor(page, 'the machines to stop once their data is stale',
      () => ['M1', 'CV1', 'R1'].every((id) => window.linetwin.state().motion[id].pace.state === 'stopped'), 90000);
    const { motion: stopped, data_time: stopped_at } = await state(page);
    assert.equal(stopped.M1.pace.reason, 'stale');
    await page.waitForTimeout(2000);
    const still = (await state(page)).motion;
    assert.equal(still.M1.turns, stopped.M1.turns, 'a stopped motor does not turn');
    assert.equal(still.CV1.belt_m, stopped.CV1.belt_m, 'a stopped belt does not run');
    server = await startServer(ARGS, port);
    await waitFor(page, 'the stream back, with new readings',
      (readings) => { const s = window.linetwin.state(); return s.connection === 'connected' && s.readings > readings + 20; },
      120000, before.readings);
    // The restarted gateway's clock starts again from zero; the twin's time
    // runs on (in a new epoch when the new clock is more than the 15 s
    // tolerance behind, which depends on how long the outage lasted).
    await waitFor(page, 'the twin\'s time running on past the outage',
      (t) => window.linetwin.state().data_time > t, 60000, stopped_at);
    const after = await state(page);
    assert.ok(after.kiosk, 'still a kiosk');
    await waitFor(page, 'the motor turning again', () => window.linetwin.state().motion.M1.pace.state === 'turning', 60000);
  });

  test('a lost WebGL context reloads the page by itself, as a kiosk', async () => {
    await Promise.all([
      page.waitForNavigation({ timeout: 60000 }),
      page.evaluate(() => {
        const gl = document.getElementById('linetwin-canvas').getContext('webgl2');
        gl.getExtension('WEBGL_lose_context').loseContext();
      }),
    ]);
    await waitFor(page, 'the kiosk back after the reload',
      () => window.linetwin && window.linetwin.state().first_frame_ms && window.linetwin.state().kiosk && window.linetwin.state().connection === 'connected', 240000);
    const reloads = await page.evaluate(() => JSON.parse(sessionStorage.getItem('linetwin-kiosk-reloads') || '[]'));
    assert.equal(reloads.at(-1).reason, 'webgl context lost', JSON.stringify(reloads));
    assert.match(page.url(), /kiosk&tour=3s/, 'the same URL');
  });
});
