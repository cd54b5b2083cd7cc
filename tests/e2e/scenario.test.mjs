// End-to-end: a demo story. The gateway tells `fan-unbalance` at 8x; the
// viewer shows its captions in the story's order, with its chapters, and
// its track record (`state().model_accuracy`) finds the unbalance before
// the balancing, which censors the remaining lives forecast before it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { required, startServer, launchBrowser, waitFor, state } from './harness.mjs';

const LINE = required('LINETWIN_LINE');
const STORY = new URL('../../assets/scenarios/fan-unbalance.json', import.meta.url);

describe('a demo scenario in headless Chromium', () => {
  let server;
  let browser;
  let page;
  const story = JSON.parse(readFileSync(STORY, 'utf8'));

  before(async () => {
    // The browser first: the story starts with the gateway.
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    server = await startServer(['--line', LINE, '--scenario', STORY.pathname, '--speedup', '8', '--block-interval', '1', '--seed', '3']);
    await page.goto(server.url);
    await waitFor(page, 'the first frame', () => window.linetwin && window.linetwin.state().first_frame_ms, 240000);
  });

  after(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
  });

  test('the captions appear in the story\'s order, with their chapters', async () => {
    // Each caption shows for seconds of wall time at 8x; the timeline keeps
    // every one told, so none is missed between two polls of a slow page.
    const last = story.captions.at(-1).text;
    const told = await (await waitFor(page, 'the story told to its end',
      (text) => { const s = window.linetwin.state(); return s.timeline.captions.some((c) => c.text === text) && s.last_caption?.text === text && s; },
      180000, last)).jsonValue();
    const seen = told.timeline.captions;
    const order = story.captions.map((c) => c.text);
    const indices = seen.map((c) => order.indexOf(c.text));
    assert.ok(indices.every((i) => i >= 0), `only the story's captions: ${JSON.stringify(seen)}`);
    assert.ok(indices.every((i, k) => k === 0 || i > indices[k - 1]), `in order: ${JSON.stringify(indices)}`);
    assert.ok(seen.every((c, k) => k === 0 || c.t > seen[k - 1].t), 'at increasing data times');
    assert.ok(seen.length >= 3, `the story's captions: ${JSON.stringify(seen)}`);
    assert.equal(told.last_caption.chapter, 'Back to normal');
  });

  test('the remote jumps back to a chapter and the story is told from there', async () => {
    const s = await state(page);
    assert.equal(s.scenario.id, 'fan-unbalance');
    assert.deepEqual(s.scenario.chapters.map((c) => c[1]), story.chapters.map((c) => c.title));
    const before = s.clock.epochs;
    await page.evaluate(() => window.linetwin.scenario('chapter/2'));
    const balancing = story.captions.find((c) => c.at_s === story.chapters[2].at_s).text;
    // Told again after the jump: in the timeline's log at a data time after
    // what came before (on the twin's axis, which runs on across the jump,
    // not back at 240 s; a caption that came just after the readings
    // opening the new epoch lands a few data seconds behind them).
    const after = await (await waitFor(page, 'the chapter\'s caption again',
      ([text, t, epochs]) => {
        const s = window.linetwin.state();
        return s.clock.epochs > epochs && s.timeline.captions.some((c) => c.text === text && c.t > t - 20) && s;
      }, 60000, [balancing, s.data_time, before])).jsonValue();
    assert.ok(after.clock.epochs > before, 'going back opened a new epoch on the twin');
    assert.ok(['Balancing', 'Back to normal'].includes(after.last_caption.chapter), JSON.stringify(after.last_caption));
  });

  test('the track record finds the unbalance before the balancing and censors the lives it ended', async () => {
    // Told again from the growing unbalance (the viewer may have joined
    // the first telling after it), through the balancing at 240 s: the
    // gateway has FN1's baselines learned afresh, which is maintenance.
    await page.evaluate(() => window.linetwin.scenario('chapter/1'));
    const fn1 = await (await waitFor(page, 'FN1 found before it was balanced',
      () => {
        const a = window.linetwin.state().model_accuracy?.assets?.FN1;
        return a && a.detection.found_before_maintenance >= 1 && a.remaining_life.censored >= 1 && a;
      }, 120000)).jsonValue();
    assert.ok(fn1.detection.lead_times_s.length >= 1 && fn1.detection.lead_times_s.every((s) => s > 0),
      `a positive lead time: ${JSON.stringify(fn1.detection)}`);
    // Censored lives are neither hits nor misses: FN1 never failed.
    assert.equal(fn1.remaining_life.resolved, 0, JSON.stringify(fn1.remaining_life));
    const accuracy = (await state(page)).model_accuracy;
    assert.ok(accuracy.line.forecasts >= 15, `a remaining life of every asset kept: ${accuracy.line.forecasts}`);
    assert.ok(accuracy.recent.some((f) => f.asset === 'FN1' && f.outcome === 'censored' && f.kind === 'remaining_life'),
      `FN1's censored lives in the latest resolved: ${JSON.stringify(accuracy.recent.map((f) => [f.asset, f.kind, f.outcome]))}`);
  });
});
