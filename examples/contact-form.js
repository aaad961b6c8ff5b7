// Optional enhancement for contact-form.html: posts with fetch, keeps the submission in the browser until
// the API accepts it (retrying through 429, 503 and lost connections, and on the next visit), shows the
// API's field errors inline, and fills the UTM and time zone fields. Without it, the form still posts and
// lands on the thank-you page.
(() => {
  const form = document.querySelector('form[data-handoff-form]');
  if (!form || !window.fetch) return;
  const status = form.querySelector('.form-status');
  const button = form.querySelector('button[type="submit"]');

  // UTM parameters of the page's URL go with the lead (the funnel breaks leads down by them).
  const params = new URLSearchParams(location.search);
  for (const [param, field] of [
    ['utm_source', 'utmSource'],
    ['utm_medium', 'utmMedium'],
    ['utm_campaign', 'utmCampaign'],
  ]) {
    const value = params.get(param);
    if (value && form.elements[field]) form.elements[field].value = value.slice(0, 100);
  }
  try {
    if (form.elements.timeZone)
      form.elements.timeZone.value = Intl.DateTimeFormat().resolvedOptions().timeZone ?? '';
  } catch {
    // no time zone: the lead gets the default sending hours
  }

  const clearErrors = () => {
    for (const el of form.querySelectorAll('.field-error')) el.remove();
    for (const el of form.querySelectorAll('[aria-invalid]')) {
      el.removeAttribute('aria-invalid');
      el.removeAttribute('aria-describedby');
    }
    status.textContent = '';
    status.classList.remove('error');
  };
  const say = (text, isError = false) => {
    status.textContent = text;
    status.classList.toggle('error', isError);
  };
  // The 400 body: { error, fields: { email: ['must be a valid email address'], ... } }. Messages are set as
  // text, never as HTML.
  const showFieldErrors = (fields) => {
    let first;
    for (const [name, messages] of Object.entries(fields ?? {})) {
      const input = form.elements[name];
      const text = `${Array.isArray(messages) ? messages.join(', ') : messages}`;
      if (!input || input.type === 'hidden') {
        say(`${name === '(body)' ? '' : `${name} `}${text}`, true);
        continue;
      }
      const error = document.createElement('p');
      error.className = 'field-error';
      error.id = `${input.id || name}-error`;
      error.textContent = text.charAt(0).toUpperCase() + text.slice(1);
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', error.id);
      (input.closest('.consent') ?? input).insertAdjacentElement('afterend', error);
      first ??= input;
    }
    first?.focus();
    if (first && !status.textContent) say('Please check the highlighted fields.', true);
  };

  // A submission is kept in this browser until the API accepts it: a busy API (429, 503, 502, 504) or a
  // lost connection is retried with backoff (honouring Retry-After), and a page closed mid-way sends it
  // on the next visit. Sending the same form twice the same day starts nothing new (the API is
  // idempotent per lead, form and day), so a retry never duplicates a lead.
  const KEY = `handoff-form:${form.action}`;
  const KEEP_MS = 24 * 3600 * 1000;
  const RETRYABLE = new Set([429, 502, 503, 504]);
  const keep = (body) => {
    try {
      localStorage.setItem(KEY, JSON.stringify({ body, at: Date.now() }));
    } catch {
      // storage full or off: retries still happen while the page is open
    }
  };
  const forget = () => {
    try {
      localStorage.removeItem(KEY);
    } catch {
      // nothing kept
    }
  };
  const kept = () => {
    try {
      const entry = JSON.parse(localStorage.getItem(KEY) ?? 'null');
      if (entry && typeof entry.body === 'string' && Date.now() - entry.at < KEEP_MS) return entry.body;
    } catch {
      // unreadable: start afresh
    }
    forget();
    return undefined;
  };

  const thank = () => {
    forget();
    const thankYou = form.dataset.thankYou;
    if (thankYou) {
      location.assign(thankYou);
      return;
    }
    const thanks = document.createElement('p');
    thanks.className = 'thanks';
    thanks.setAttribute('role', 'status');
    thanks.textContent = 'Thank you! We will be in touch within one business day.';
    form.replaceWith(thanks);
  };

  let wake;
  // Back online: try at once rather than at the end of the current wait.
  addEventListener('online', () => wake?.());
  const pause = (ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  let sending = false;
  const send = async (body) => {
    if (sending) return;
    sending = true;
    button.disabled = true;
    keep(body);
    say('Sending…');
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await fetch(form.action, {
          method: 'POST',
          body,
          headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        });
      } catch {
        // A network error, or CORS (the API refuses origins not in forms.allowedOrigins): retried.
      }
      if (res?.ok) {
        sending = false;
        thank();
        return;
      }
      if (res && !RETRYABLE.has(res.status)) {
        sending = false;
        forget();
        button.disabled = false;
        say('');
        const answer = await res.json().catch(() => ({}));
        if (res.status === 400)
          showFieldErrors(answer.fields ?? { '(body)': [answer.error ?? 'Please check the form.'] });
        else if (res.status === 413) say('The message is too long. Please shorten it.', true);
        else say('Something went wrong on our side. Please try again later.', true);
        return;
      }
      // Exponential backoff with jitter from 1 s up to 30 s, never sooner than the API's Retry-After.
      const backoff = Math.min(30, 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2);
      const retryAfter = Number(res?.headers.get('retry-after')) || 0;
      const wait = Math.max(backoff, Math.min(retryAfter, 300));
      say(
        res
          ? `We are busy right now: your request is kept and sent again in ${Math.ceil(wait)} s.`
          : `We cannot reach our servers: your request is kept and sent again in ${Math.ceil(wait)} s.`,
      );
      await pause(wait * 1000);
      say('Sending…');
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (sending) return;
    clearErrors();
    send(new URLSearchParams(new FormData(form)).toString());
  });

  // A request kept from an earlier visit (the page was closed before it was accepted): sent now.
  const earlier = kept();
  if (earlier) {
    for (const [name, value] of new URLSearchParams(earlier))
      if (form.elements[name] && form.elements[name].type !== 'checkbox') form.elements[name].value = value;
      else if (form.elements[name]) form.elements[name].checked = true;
    send(earlier);
  }
})();
