// Trunk initializer: shows download progress of the wasm module, hides the
// overlay once the first frame with the line is on screen, and turns any
// failure into a readable message. On a kiosk, a crash reloads the page after
// a pause so the screen recovers without anyone touching it.
const RELOAD_AFTER_CRASH_MS = 30000;

function el(id) { return document.getElementById(id); }

function show(text, detail) {
  if (window.__linetwinFatal) return;
  el('loading-text').textContent = text;
  el('loading-detail').textContent = detail || '';
}

function fail(text, detail) {
  if (window.__linetwinFatal) return;
  window.__linetwinFatal = true;
  el('loading').classList.remove('done');
  el('loading').classList.add('error');
  el('loading-text').textContent = text;
  el('loading-detail').textContent = detail + ' The page reloads in 30 s.';
  setTimeout(() => location.reload(), RELOAD_AFTER_CRASH_MS);
}

function mb(bytes) { return (bytes / 1048576).toFixed(1) + ' MB'; }

// winit leaves `main` by throwing on purpose; that is not a failure.
function isControlFlow(error) {
  return String(error && (error.message || error)).includes('Using exceptions for control flow');
}

window.addEventListener('error', (event) => {
  if (isControlFlow(event.error || event.message)) return;
  if (event.error instanceof WebAssembly.RuntimeError) {
    fail('The viewer stopped unexpectedly.', String(event.error.message || event.error));
  }
});

function waitForFirstFrame() {
  const state = window.linetwin && window.linetwin.state();
  if (state && state.first_frame_ms) {
    el('loading').classList.add('done');
    return;
  }
  if (state && state.line_status && state.line_status.startsWith('retrying')) {
    show('Waiting for the gateway…', state.line_status);
  }
  setTimeout(waitForFirstFrame, 100);
}

// ---- kiosk self-healing (`?kiosk`) -------------------------------------
// A kiosk browser left alone for weeks must recover without a person: a lost
// WebGL context, a page that stopped rendering, or memory growing towards
// the tab's limit all end in a clean reload of the same URL (the kiosk's
// options are in it). Each reload and its reason is kept in sessionStorage.
const KIOSK = /[?&]kiosk(=|&|$)/.test(location.search) && !/[?&]kiosk=(off|0|false|no)(&|$)/.test(location.search);
const WATCH_EVERY_MS = 15000;
const FROZEN_AFTER_MS = 120000;
const MAX_WASM_BYTES = 2.5e9; // wasm32 stops at 4 GiB
const MAX_JS_HEAP_BYTES = 1.5e9;

function kioskReload(reason) {
  try {
    const log = JSON.parse(sessionStorage.getItem('linetwin-kiosk-reloads') || '[]');
    log.push({ at: new Date().toISOString(), reason });
    sessionStorage.setItem('linetwin-kiosk-reloads', JSON.stringify(log.slice(-50)));
  } catch (_) { /* storage full or off: reload anyway */ }
  location.reload();
}

function watchKiosk() {
  const canvas = el('linetwin-canvas');
  canvas.addEventListener('webglcontextlost', (event) => {
    event.preventDefault();
    show('The display was lost; restarting…');
    setTimeout(() => kioskReload('webgl context lost'), 1000);
  });
  let lastFrames = -1;
  let lastChange = Date.now();
  setInterval(() => {
    const state = window.linetwin && window.linetwin.state();
    if (!state || !state.first_frame_ms) return;
    if (state.frames_rendered !== lastFrames) {
      lastFrames = state.frames_rendered;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > FROZEN_AFTER_MS) {
      kioskReload('no frame for ' + Math.round(FROZEN_AFTER_MS / 1000) + ' s');
    }
    const memory = state.memory || {};
    if ((memory.wasm_bytes || 0) > MAX_WASM_BYTES || (memory.js_heap_bytes || 0) > MAX_JS_HEAP_BYTES) {
      kioskReload('memory ' + mb(memory.wasm_bytes || 0) + ' wasm, ' + mb(memory.js_heap_bytes || 0) + ' JS heap');
    }
  }, WATCH_EVERY_MS);
}

if (KIOSK) {
  document.body.classList.add('kiosk');
  watchKiosk();
}

// ---- sign-in ------------------------------------------------------------
// A gateway with sign-in answers /api/me with 401 to nobody: go to its form
// at once, before tens of megabytes download for nothing, and come back to
// this very view afterwards. (The viewer asks again later, src/access.rs.)
function signInIfNeeded() {
  fetch('api/me').then((answer) => {
    if (answer.status === 401) {
      const here = location.pathname + location.search + location.hash;
      location.replace('login?next=' + encodeURIComponent(here));
    }
  }).catch(() => {});
}

export default function linetwinLoader() {
  return {
    onStart: () => { signInIfNeeded(); show('Downloading the viewer…'); },
    onProgress: ({ current, total }) => {
      const fraction = total ? Math.min(current / total, 1) : 0;
      el('loading-bar').style.width = (fraction * 100).toFixed(1) + '%';
      show('Downloading the viewer…', total ? `${mb(current)} of ${mb(total)}` : mb(current));
    },
    onComplete: () => show('Starting…'),
    onSuccess: () => { show('Building the line…'); waitForFirstFrame(); },
    onFailure: (error) => {
      if (isControlFlow(error)) { show('Building the line…'); waitForFirstFrame(); return; }
      fail('The viewer could not start.', String(error && (error.message || error)));
    },
  };
}
