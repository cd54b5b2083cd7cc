// End-to-end: the viewer on a phone. The side panels become drawers that a
// finger opens from the status bar, the 3D view keeps the screen, and a
// selection opens its details in place of the list.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { required, startServer, launchBrowser, waitFor, state } from './harness.mjs';

const LINE = required('LINETWIN_LINE');
const SCREENSHOT = (process.env.LINETWIN_SCREENSHOT || 'e2e-screenshot.png').replace(/\.png$/, '-phone.png');
const PHONE = { width: 390, height: 844 };

describe('the viewer on a phone in headless Chromium', () => {
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startServer(['--line', LINE, '--speedup', '1', '--block-interval', '1', '--seed', '7']);
    browser = await launchBrowser();
    // Device scale 1: emulating a higher one, headless Chromium left the
    // canvas at its CSS size (not checked on a real phone).
    const context = await browser.newContext({ viewport: PHONE, hasTouch: true, isMobile: true, deviceScaleFactor: 1 });
    page = await context.newPage();
    await page.goto(server.url);
    await waitFor(page, 'the first frame with the line', () => window.linetwin && window.linetwin.state().first_frame_ms, 240000);
  });

  after(async () => {
    if (page) await page.screenshot({ path: SCREENSHOT }).catch(() => {});
    await browser?.close();
    server?.child.kill('SIGTERM');
  });

  /** A finger's tap at the middle of a rect given as [x, y, width, height]. */
  const tap = ([x, y, width, height]) => page.touchscreen.tap(x + width / 2, y + height / 2);

  test('panels are drawers and the 3D view keeps the screen', async () => {
    const layout = await waitFor(page, 'the narrow layout with its drawer buttons',
      () => { const l = window.linetwin.state().layout; return l && l.narrow && l.buttons.assets && l; }, 60000);
    const { drawer, buttons, free_viewport: free } = await layout.jsonValue();
    assert.equal(drawer, 'closed');
    assert.ok(buttons.assets[3] >= 44, `a finger-sized button: ${JSON.stringify(buttons.assets)}`);
    assert.ok(free[2] >= 0.95 * PHONE.width, `the 3D view has the width: ${JSON.stringify(free)}`);
    assert.ok(buttons.assets[0] >= 0 && buttons.assets[0] + buttons.assets[2] <= PHONE.width, 'the button is on screen');
  });

  test('a tap opens the asset list, and a selection its details', async () => {
    const { layout } = await state(page);
    await tap(layout.buttons.assets);
    const open = await waitFor(page, 'the asset drawer open',
      () => { const l = window.linetwin.state().layout; return l.drawer === 'assets' && l; }, 60000);
    const { free_viewport: free } = await open.jsonValue();
    assert.ok(free[2] < 0.3 * PHONE.width && free[2] > 0, `the drawer covers most of the screen, not all: ${JSON.stringify(free)}`);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-drawer.png') });

    await page.evaluate(() => window.linetwin.select('FN1'));
    await waitFor(page, 'the details drawer for FN1',
      () => { const s = window.linetwin.state(); return s.layout.drawer === 'details' && s.layout.buttons.details; }, 60000);
    await page.evaluate(() => window.linetwin.select(null));
    await waitFor(page, 'the drawers closed again', () => window.linetwin.state().layout.drawer === 'closed', 60000);
  });
});
