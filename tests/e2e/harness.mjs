// Shared by the end-to-end test and the browser benchmark: a real gateway,
// Debian's Chromium with SwiftShader, and waiting on window.linetwin.state().
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';

export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through \`cargo xtask test\` or \`cargo xtask bench\``);
  return value;
}

/// Starts the gateway (on a free port unless one is given); resolves with { child, url }.
export function startServer(args, port = 0) {
  const bin = required('LINETWIN_SERVER_BIN');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--port', String(port), '--web-root', required('LINETWIN_WEB_ROOT'), ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${stderr}`)));
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      const match = stdout.match(/listening on (http:\/\/\S+)/);
      if (match) resolve({ child, url: match[1].endsWith('/') ? match[1] : match[1] + '/' });
    });
    setTimeout(() => reject(new Error(`server did not start within 30 s:\n${stderr}`)), 30000).unref();
  });
}

export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      ...extraArgs],
  });
}

export async function waitFor(page, description, predicate, timeoutMs, arg) {
  try {
    return await page.waitForFunction(predicate, arg, { timeout: timeoutMs, polling: 250 });
  } catch (error) {
    const state = await page.evaluate(() => window.linetwin && window.linetwin.state()).catch(() => null);
    throw new Error(`timed out waiting for ${description}; state: ${JSON.stringify(state)}`, { cause: error });
  }
}

export const state = (page) => page.evaluate(() => window.linetwin.state());

/// Resolves once the page has drawn `count` more frames: at 0.2-1 frames/s a
/// fixed wait can fall inside one frame, and input the app has not seen in a
/// frame is not yet input.
export async function framesPass(page, count) {
  const start = await page.evaluate(() => window.linetwin.state().frames_rendered);
  await page.waitForFunction(({ start, count }) => window.linetwin.state().frames_rendered >= start + count,
    { start, count }, { timeout: 60000, polling: 100 });
}

/// Clicks an asset as a person would: move there, press and release, each
/// seen by the app in a frame of its own. The view can move under the
/// pointer (a panel that opens reframes the line), so it aims again when the
/// asset moved before the press, and clicks again when a click was lost that
/// way. Resolves with the number of clicks it took; fails after `tries`.
export async function clickAsset(page, id, tries = 5) {
  const onScreen = (asset) => { const a = window.linetwin.state().assets[asset]; return a && a.clickable && a.screen; };
  let lastReason = '';
  for (let attempt = 1; attempt <= tries; attempt++) {
    const aim = await (await waitFor(page, `a clickable ${id} on screen`, onScreen, 30000, id)).jsonValue();
    await page.mouse.move(aim[0], aim[1]);
    await framesPass(page, 2);
    const now = await page.evaluate(onScreen, id);
    if (!now || Math.hypot(now[0] - aim[0], now[1] - aim[1]) > 4) {
      lastReason = `${id} moved on screen from ${JSON.stringify(aim)} to ${JSON.stringify(now)} before the press`;
      continue;
    }
    await page.mouse.down();
    await framesPass(page, 1);
    await page.mouse.up();
    try {
      await page.waitForFunction((asset) => window.linetwin.state().selection === asset, id, { timeout: 15000, polling: 250 });
      return attempt;
    } catch {
      lastReason = `a click at ${JSON.stringify(aim)} did not select ${id}; state: ${JSON.stringify(await state(page))}`;
    }
  }
  throw new Error(`${tries} clicks did not select ${id}: ${lastReason}`);
}

/// Opens the viewer and waits for its first frame with the line.
export async function openViewer(browser, url, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  await page.goto(url);
  await waitFor(page, 'the first frame with the line', () => window.linetwin && window.linetwin.state().first_frame_ms, 240000);
  return page;
}
