// Handoff site tracking: a first-party snippet for the company's own pages. It knows a visitor only by the
// signed visitor id a tracked email link hands over (`?hv=…` on the landing page), and it stores and sends
// nothing before the visitor consents: no cookie at all, and localStorage only after consent.
//
//   <link rel="canonical" href="https://www.example.com/pricing">   (optional: the page's URL to report)
//   <script src="track.js" data-endpoint="https://api.example.com/events" defer></script>
//   <div data-handoff-consent-banner>                                  (your consent banner: its buttons
//     <button data-handoff-consent="yes">Accept</button>               call Handoff.consent() and
//     <button data-handoff-consent="no">Decline</button>               Handoff.revoke(), or call them
//   </div>                                                             yourself; no inline script needed)
//
// After consent, each page view posts { v: <visitor id>, url: <canonical URL or this page's> } to
// POST /events; the server records views of the high-intent pages it is configured with (pricing, demo)
// and ignores the rest. `Handoff.identify(id)` takes an id handed over another way.
(() => {
  const script = document.currentScript;
  const endpoint = script?.dataset.endpoint;
  const ID = 'handoff.visitor';
  const CONSENT = 'handoff.consent';
  const stored = (key) => {
    try {
      return localStorage.getItem(key);
    } catch {
      return null; // storage blocked: nothing is kept
    }
  };
  const store = (key, value) => {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch {
      // storage blocked: the view of this page is still sent after consent
    }
  };

  // The id from a tracked link leaves the address bar at once (it must not be bookmarked, shared or
  // sent on as a referrer); it is kept in memory until the visitor consents.
  const here = new URL(location.href);
  let pending = here.searchParams.get('hv');
  if (pending) {
    here.searchParams.delete('hv');
    history.replaceState(history.state, '', here.href);
  }

  const consented = () => stored(CONSENT) === 'yes';
  const pageUrl = () =>
    document.querySelector('link[rel=canonical]')?.href || `${location.origin}${location.pathname}`;

  function send() {
    const v = stored(ID) || pending;
    if (!endpoint || !v || !consented()) return;
    fetch(endpoint, {
      method: 'POST',
      mode: 'cors',
      keepalive: true,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ v, url: pageUrl() }),
    }).catch(() => {
      // A lost page view is not worth a retry: the visit was the visitor's, not a form they sent.
    });
  }

  function keep() {
    if (pending && consented()) {
      store(ID, pending);
      pending = null;
    }
  }

  window.Handoff = {
    /** The visitor agreed: keep the id (if a link brought one) and report this page. */
    consent() {
      store(CONSENT, 'yes');
      keep();
      send();
    },
    /** The visitor declined or withdrew: forget the id and the consent; nothing more is sent. */
    revoke() {
      store(CONSENT, null);
      store(ID, null);
      pending = null;
    },
    /** An id handed over another way (a form's answer): kept only with consent. */
    identify(id) {
      if (typeof id === 'string' && id) pending = id;
      keep();
    },
  };

  // A banner's buttons, without inline handlers (a strict content security policy allows none).
  const choose = (yes) => {
    if (yes) window.Handoff.consent();
    else window.Handoff.revoke();
    for (const banner of document.querySelectorAll('[data-handoff-consent-banner]')) banner.remove();
  };
  const bind = () => {
    for (const button of document.querySelectorAll('[data-handoff-consent]'))
      button.addEventListener('click', () => choose(button.dataset.handoffConsent === 'yes'));
    if (stored(CONSENT) === 'yes')
      for (const banner of document.querySelectorAll('[data-handoff-consent-banner]')) banner.remove();
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', bind);
  else bind();

  keep();
  send();
})();
