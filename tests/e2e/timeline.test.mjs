// End-to-end: the timeline and replays. A live story is recorded by the
// gateway; replaying the recording gives the same alarms at the same data
// times as the live run that made it; a deep link (#t=…&asset=…) opens the
// same moment in another viewer, and the timeline goes back to live.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { required, startServer, launchBrowser, waitFor, state, openViewer } from './harness.mjs';

const LINE = required('LINETWIN_LINE');
const STORY = new URL('../../assets/scenarios/fan-unbalance.json', import.meta.url).pathname;
const LIVE_UNTIL_S = 160; // data seconds: past FN1's first alarms, before its balancing at 240 s
const post = (url) => fetch(url, { method: 'POST' }).then((r) => { if (!r.ok) throw new Error(`${url}: ${r.status}`); });
const alarmsUpTo = (s, t) => s.alarms
  .filter((a) => a.raised_at <= t)
  .map((a) => ({ asset: a.asset, severity: a.severity, level: a.level, raised_at: a.raised_at }))
  .sort((a, b) => a.raised_at - b.raised_at || a.asset.localeCompare(b.asset));

describe('the timeline and replays in headless Chromium', () => {
  let browser;
  let recording;
  let pausedAt;
  let liveState;
  // The live viewer scrubbed back to a moment: what it showed, and its URL.
  let linked;
  const servers = [];

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'linetwin-e2e-recording-'));
    browser = await launchBrowser();
    const server = await startServer(['--line', LINE, '--scenario', STORY, '--speedup', '4', '--seed', '5', '--record', dir]);
    servers.push(server);
    // Held still until the viewer is there, so the live viewer sees every
    // frame the replay will send.
    await post(server.url + 'api/scenario/pause');
    const live = await openViewer(browser, server.url);
    await waitFor(live, 'the live viewer connected', () => window.linetwin.state().connection === 'connected', 60000);
    pausedAt = (await (await fetch(server.url + 'api/scenario')).json()).t;
    await post(server.url + 'api/scenario/resume');
    await waitFor(live, `data time ${LIVE_UNTIL_S} s`, (t) => window.linetwin.state().data_time >= t, 240000, LIVE_UNTIL_S);
    liveState = await state(live);
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));

    // Scrubbed back to just after FN1's alarm: the URL names the moment.
    const alarm = liveState.alarms.find((a) => a.asset === 'FN1');
    assert.ok(alarm, `the live run raised FN1's alarm: ${JSON.stringify(liveState.alarms)}`);
    const t = Math.round((alarm.raised_at + 3) * 10) / 10;
    await live.evaluate(() => window.linetwin.select('FN1'));
    await live.evaluate((at) => window.linetwin.seek(at), t);
    const past = await (await waitFor(live, 'the live viewer in the past',
      (at) => { const tl = window.linetwin.state().timeline; return tl.mode === 'past' && tl.t === at && tl; }, 30000, t)).jsonValue();
    linked = { t, alarm, past, link: await live.evaluate(() => location.hash) };
    // One rendering page at a time: two SwiftShader pages on two cores
    // starve each other.
    await live.close();
    const files = readdirSync(dir).filter((f) => f.endsWith('.mcap'));
    assert.equal(files.length, 1, `one recording: ${files}`);
    recording = join(dir, files[0]);
  });

  after(async () => {
    await browser?.close();
    for (const s of servers) s.child.kill('SIGTERM');
  });

  const replay = async () => {
    // At the live run's own pace, so the replay viewer has the live viewer's time to diagnose.
    const server = await startServer(['--replay', recording, '--replay-speedup', '1', '--from', String(pausedAt + 1e-6)]);
    servers.push(server);
    return server;
  };

  test('replaying the recording gives the same alarms at the same data times as the live run', async () => {
    const server = await replay();
    const page = await openViewer(browser, server.url);
    await waitFor(page, 'the replay past the live run\'s end',
      (t) => window.linetwin.state().data_time >= t, 240000, liveState.data_time - 1);
    const replayed = await state(page);
    assert.equal(replayed.replay, true, 'the hello said it is a replay');
    const cut = Math.min(liveState.data_time, replayed.data_time) - 10;
    const expected = alarmsUpTo(liveState, cut);
    assert.ok(expected.some((a) => a.asset === 'FN1'), `the live run raised FN1's alarm: ${JSON.stringify(liveState.alarms)}`);
    assert.deepEqual(alarmsUpTo(replayed, cut), expected);
    assert.equal(replayed.diagnosis.superseded, 0, 'the replay viewer diagnosed every block');
    await page.close();
  });

  test('a deep link opens the same moment, and the timeline goes back to live', async () => {
    const { t, alarm, past, link } = linked;
    assert.ok(['C', 'D'].includes(past.assets.FN1.zone), JSON.stringify(past.assets.FN1));
    assert.ok(past.alarms_in_force.includes(alarm.id), 'its alarm was in force then');
    assert.equal(link, `#t=${t.toFixed(1)}&asset=FN1`);

    // Another viewer, on a replay of the same recording, opened by the link.
    const server = await replay();
    const page = await openViewer(browser, server.url + link);
    const opened = await (await waitFor(page, 'the linked moment',
      () => { const s = window.linetwin.state(); return s.timeline && s.timeline.mode === 'past' && s; }, 240000)).jsonValue();
    assert.equal(opened.timeline.t, t);
    assert.equal(opened.selection, 'FN1');
    for (const [id, asset] of Object.entries(past.assets)) {
      assert.equal(opened.timeline.assets[id].zone, asset.zone, `${id} at ${t}`);
    }
    assert.equal(await page.evaluate(() => location.hash), link, 'the URL still names the moment');

    await page.evaluate(() => window.linetwin.seek(null));
    await waitFor(page, 'live again', () => window.linetwin.state().timeline.mode === 'live', 30000);
    assert.equal(await page.evaluate(() => location.hash), '', 'a live view names no moment');
    await page.screenshot({ path: (process.env.LINETWIN_SCREENSHOT || 'e2e-screenshot.png').replace(/\.png$/, '-timeline.png') });
  });
});
