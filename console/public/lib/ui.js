// Page furniture: headers, inline errors, empty states, the confirmation dialog, toasts, a refreshed body.
import { h, replace } from './dom.js';

export function pageHeader(title, ...extra) {
  return h(
    'header',
    { class: 'page-header' },
    h('h1', { text: title }),
    h('div', { class: 'page-tools' }, ...extra),
  );
}

/** An error from the API, shown where the data would be. */
export function errorBox(e, retry) {
  return h(
    'div',
    { class: 'error-box', role: 'alert' },
    h('strong', { text: e?.status === 404 ? 'Not found' : 'Something went wrong' }),
    h('span', { text: ` ${e?.message ?? String(e)}` }),
    e?.fields
      ? h(
          'ul',
          null,
          Object.entries(e.fields).map(([k, v]) => h('li', null, h('code', { text: k }), ` ${v}`)),
        )
      : null,
    retry ? h('button', { class: 'btn small', onclick: retry, text: 'Try again' }) : null,
  );
}

/**
 * The loader of a page whose body is one report: `fetch()` it, then fill `body` with `render(data)`'s
 * nodes, or with the error; nothing once the admin has left the page. Call it, then `every(ms, load)`.
 */
export function bodyLoader(body, isCurrent, fetch, render) {
  return async () => {
    try {
      const data = await fetch();
      if (isCurrent()) replace(body, ...render(data));
    } catch (e) {
      if (isCurrent()) replace(body, errorBox(e));
    }
  };
}

export function emptyState(title, ...body) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title', text: title }), ...body);
}

export function loading(what = 'Loading') {
  return h('div', { class: 'loading', 'aria-busy': 'true', text: `${what}…` });
}

/**
 * Asks before an action. Resolves true when confirmed.
 * @param {{title: string, body: (string|Node)[], confirm: string, danger?: boolean}} opts
 */
export function confirmDialog({ title, body, confirm, danger = false }) {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'confirm-title', text: title }),
        ...body.map((b) => (typeof b === 'string' ? h('p', { text: b }) : b)),
        h(
          'div',
          { class: 'dialog-actions' },
          h('button', { value: 'cancel', class: 'btn', text: 'Cancel' }),
          h('button', { value: 'ok', class: `btn ${danger ? 'danger' : 'primary'}`, text: confirm }),
        ),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

let toastTimer;
export function toast(message, kind = 'ok') {
  document.querySelector('.toast')?.remove();
  const el = h('div', { class: `toast toast-${kind}`, role: 'status', text: message });
  document.body.append(el);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.remove(), 4000);
}

/** A key/value list; values may be nodes. Empty values show a dash. */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs
      .filter(Boolean)
      .map(([k, v]) => [
        h('dt', { text: k }),
        h(
          'dd',
          null,
          v === undefined || v === null || v === '' ? h('span', { class: 'muted', text: '—' }) : v,
        ),
      ]),
  );
}
