// A kiosk opens /kiosk#token=<device token>[&view=<viewer query>]. The token
// is in the fragment, which the browser never sends: no proxy logs it. It is
// traded once for an HttpOnly session cookie, then removed from the address
// bar and history, and the viewer opens in kiosk mode.
(async () => {
  const status = document.getElementById('status');
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  history.replaceState(null, '', location.pathname);
  const view = params.get('view') || 'kiosk';
  if (!token) {
    const me = await fetch('/api/me');
    if (me.ok) { location.replace('/?' + view); return; }
    status.textContent = 'No device token: open /kiosk#token=… with the token an admin created.';
    return;
  }
  const answer = await fetch('/api/kiosk/session', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + token },
  });
  if (answer.ok) {
    location.replace('/?' + view);
  } else {
    const body = await answer.json().catch(() => ({}));
    status.textContent = 'This screen was not let in: ' + (body.error || answer.status);
  }
})();
