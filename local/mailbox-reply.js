// Injected into the local mailbox page (aws-ses-v2-local's): a "Reply as the lead" button on every email
// with a Reply-To. The reply is built here as the lead's mail client would (plain text, Re: subject) and
// handed to SES receiving at POST /_handoff/inbound, the path a reply takes in AWS (docs/local-stack.md).
(() => {
  const utf8b64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
  const address = (text) => text.replace(/^.*<|>.*$/g, '').trim();
  let emails = [];
  const refresh = async () => {
    emails = (await (await fetch('/store')).json()).emails;
  };
  async function reply(email, outOfOffice) {
    const text = outOfOffice
      ? `I am out of the office with limited access to email. I will be back on ${new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10)}.`
      : window.prompt(
          `Reply to "${email.subject}" as ${email.destination.to[0]}:`,
          'Thanks, could someone call me this week?',
        );
    if (!text) return;
    const to = address(email.replyTo[0]);
    const subject = /^re:/i.test(email.subject) ? email.subject : `Re: ${email.subject}`;
    const raw = [
      `From: ${email.destination.to[0]}`,
      `To: ${to}`,
      `Subject: =?UTF-8?B?${utf8b64(subject)}?=`,
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <${crypto.randomUUID()}@mailbox.local.handoff>`,
      'MIME-Version: 1.0',
      ...(outOfOffice ? ['Auto-Submitted: auto-replied', 'X-Autoreply: yes'] : []),
      'Content-Type: text/plain; charset=UTF-8',
      'Content-Transfer-Encoding: base64',
      '',
      utf8b64(text),
    ].join('\r\n');
    const res = await fetch('/_handoff/inbound', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ raw, recipients: [to] }),
    });
    const answer = await res.json();
    window.alert(
      res.ok && answer.delivered ? 'Reply delivered.' : `Not delivered: ${JSON.stringify(answer)}`,
    );
  }
  const decorate = async () => {
    await refresh();
    for (const node of document.querySelectorAll('.email:not([data-reply])')) {
      node.setAttribute('data-reply', '');
      const subject = node.querySelector('p')?.textContent?.replace(/^Subject:\s*/, '');
      const email = emails.find((e) => e.subject === subject && e.replyTo?.length);
      if (!email) continue;
      const inner = node.querySelector('.email-inner') ?? node;
      for (const [label, ooo] of [
        ['Reply as the lead', false],
        ['Out-of-office reply', true],
      ]) {
        const button = document.createElement('button');
        button.textContent = label;
        button.className = ooo ? 'handoff-ooo' : 'handoff-reply';
        button.addEventListener('click', () => reply(email, ooo));
        inner.append(button);
      }
    }
  };
  new MutationObserver(() => decorate()).observe(document.getElementById('content') ?? document.body, {
    childList: true,
  });
  decorate();
})();
