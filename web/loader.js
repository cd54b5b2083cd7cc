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

export default function linetwinLoader() {
  return {
    onStart: () => show('Downloading the viewer…'),
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
