// End-to-end: a kiosk screen. The tour visits the faulted asset and shows
// its banner; after the gateway restarts the kiosk is back without a click;
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

  test('after the gateway restarts the kiosk is back without a click', async () => {
    const before = await state(page);
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    await waitFor(page, 'the kiosk to notice the gateway is gone', () => window.linetwin.state().connection !== 'connected', 60000);
    server = await startServer(ARGS, port);
    await waitFor(page, 'the stream back, with new readings',
      (readings) => { const s = window.linetwin.state(); return s.connection === 'connected' && s.readings > readings + 20; },
      120000, before.readings);
    const after = await state(page);
    assert.ok(after.clock.epochs > before.clock.epochs, `the restarted gateway's clock continues the twin: ${JSON.stringify(after.clock)}`);
    assert.ok(after.kiosk, 'still a kiosk');
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
