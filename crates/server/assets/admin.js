// The admin's page: people, device tokens and the audit log, over the
// gateway's JSON API (which decides who may; this page only shows).
// Served as a file so the Content-Security-Policy needs no inline script.
const $ = (id) => document.getElementById(id);

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  row.appendChild(td);
  return td;
}

function when(unixS) {
  return unixS ? new Date(unixS * 1000).toLocaleString() : '';
}

async function api(method, path, body) {
  const answer = await fetch(path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = answer.status === 204 ? {} : await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(json.error || `HTTP ${answer.status}`);
  return json;
}

function button(row, label, action) {
  const b = document.createElement('button');
  b.className = 'danger';
  b.textContent = label;
  b.addEventListener('click', () => action().then(refresh).catch(show));
  cell(row, '').appendChild(b);
}

function show(error) {
  $('problem').textContent = error ? String(error.message || error) : '';
}

async function refresh() {
  const [{ users }, { tokens }, { audit }] = await Promise.all([
    api('GET', '/api/users'), api('GET', '/api/tokens'), api('GET', '/api/audit?limit=200'),
  ]);
  $('users').replaceChildren(...users.map((u) => {
    const row = document.createElement('tr');
    cell(row, u.name); cell(row, u.role); cell(row, when(u.created_unix_s));
    button(row, 'Remove', () => api('DELETE', '/api/users/' + encodeURIComponent(u.name)));
    return row;
  }));
  $('tokens').replaceChildren(...tokens.map((t) => {
    const row = document.createElement('tr');
    cell(row, t.id); cell(row, t.name); cell(row, t.role); cell(row, t.assets ? t.assets.join(', ') : 'any');
    cell(row, t.created_by);
    cell(row, t.revoked_unix_s ? 'revoked ' + when(t.revoked_unix_s) : 'live');
    if (!t.revoked_unix_s) button(row, 'Revoke', () => api('POST', `/api/tokens/${t.id}/revoke`));
    else cell(row, '');
    return row;
  }));
  $('audit').replaceChildren(...audit.map((e) => {
    const row = document.createElement('tr');
    cell(row, when(e.at_unix_s)); cell(row, e.who); cell(row, e.action); cell(row, e.target);
    cell(row, e.outcome); cell(row, e.detail);
    return row;
  }));
}

$('add-user').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  api('POST', '/api/users', { name: form.get('name'), role: form.get('role'), password: form.get('password') })
    .then(() => { event.target.reset(); show(null); return refresh(); })
    .catch(show);
});

$('add-token').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const assets = String(form.get('assets') || '').split(',').map((a) => a.trim()).filter(Boolean);
  const body = { name: form.get('name'), role: form.get('role') };
  if (assets.length) body.assets = assets;
  api('POST', '/api/tokens', body)
    .then(({ token, secret }) => {
      event.target.reset();
      show(null);
      const how = token.role === 'kiosk'
        ? `Open on the screen: ${location.origin}/kiosk#token=${secret}`
        : `Send as the header  Authorization: Bearer ${secret}  on /ws/ingest`;
      $('secret').textContent = `Token ${token.id} (${token.name}): ${secret} — shown this once. ${how}`;
      $('secret').hidden = false;
      return refresh();
    })
    .catch(show);
});

(async () => {
  const answer = await fetch('/api/me');
  if (answer.status === 401) {
    location.replace('/login?next=' + encodeURIComponent('/admin'));
    return;
  }
  const me = await answer.json().catch(() => ({}));
  if (!(me.may || []).includes('manage_access')) {
    $('who').textContent = `Signed in as ${me.name} (${me.role}): only an admin manages people and tokens.`;
    return;
  }
  $('who').textContent = `Signed in as ${me.name} (admin).`;
  $('admin').hidden = false;
  await refresh().catch(show);
})();
