// Optional enhancement for contact-form.html: posts with fetch, shows the API's field errors inline, and
// fills the UTM and time zone fields. Without it, the form still posts and lands on the thank-you page.
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

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    button.disabled = true;
    say('Sending…');
    let res;
    try {
      res = await fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(new FormData(form)),
        headers: { accept: 'application/json' },
      });
    } catch {
      // A network error, or CORS: the API refuses origins not in forms.allowedOrigins.
      say('We could not reach our servers. Please try again in a moment.', true);
      button.disabled = false;
      return;
    }
    if (res.ok) {
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
      return;
    }
    button.disabled = false;
    say('');
    const body = await res.json().catch(() => ({}));
    if (res.status === 400)
      showFieldErrors(body.fields ?? { '(body)': [body.error ?? 'Please check the form.'] });
    else if (res.status === 429 || res.status === 503) {
      const wait = Number(res.headers.get('retry-after')) || 2;
      say(`We are busy right now. Please send the form again in ${wait} seconds.`, true);
    } else if (res.status === 413) say('The message is too long. Please shorten it.', true);
    else say('Something went wrong on our side. Please try again later.', true);
  });
})();
