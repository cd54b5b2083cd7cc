// End-to-end: a demo story. The gateway tells `fan-unbalance` at 8x; the
// viewer shows its captions in the story's order, with its chapters.
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
    const seen = [];
    const last = story.captions.at(-1).text;
    const deadline = Date.now() + 180000;
    while (Date.now() < deadline && seen.at(-1)?.text !== last) {
      const caption = (await state(page)).caption;
      if (caption && caption.text !== seen.at(-1)?.text) seen.push(caption);
      await page.waitForTimeout(250);
    }
    const order = story.captions.map((c) => c.text);
    const indices = seen.map((c) => order.indexOf(c.text));
    assert.ok(indices.every((i) => i >= 0), `only the story's captions: ${JSON.stringify(seen)}`);
    assert.ok(indices.every((i, k) => k === 0 || i > indices[k - 1]), `in order: ${JSON.stringify(indices)}`);
    assert.ok(seen.length >= 2, `at least two captions seen: ${JSON.stringify(seen)}`);
    assert.equal(seen.at(-1).text, last, 'the story reached its end');
    assert.equal(seen.at(-1).chapter, 'Back to normal');
  });

  test('the remote jumps back to a chapter and the story is told from there', async () => {
    const s = await state(page);
    assert.equal(s.scenario.id, 'fan-unbalance');
    assert.deepEqual(s.scenario.chapters.map((c) => c[1]), story.chapters.map((c) => c.title));
    const before = s.clock.epochs;
    await page.evaluate(() => window.linetwin.scenario('chapter/2'));
    const balancing = story.captions.find((c) => c.at_s === story.chapters[2].at_s).text;
    await waitFor(page, 'the chapter\'s caption again',
      (text) => window.linetwin.state().caption?.text === text, 60000, balancing);
    const after = await state(page);
    assert.equal(after.caption.chapter, story.chapters[2].title);
    assert.ok(after.clock.epochs > before, 'going back opened a new epoch on the twin');
  });
});
