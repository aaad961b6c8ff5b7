// The example form with its script (examples/contact-form.js) in a real browser, against a fresh local
// stack: the API's field errors shown inline, and a submission kept through an outage until accepted; and
// the site snippet (examples/track.js): nothing before consent, a pricing view after it.
// The outage runs on Playwright's clock (the page's timers), so 30 seconds of retries take about one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { visitorId } from '#functions/mail/links.ts';
import { chooseBrowser, launchBrowser } from '#test/fixtures/browser.ts';
import { aLead } from '#test/fixtures/leads.ts';
import {
  eventually,
  postLead,
  startTestStack,
  storesOf,
  type TestStack,
} from '#test/fixtures/local-stack.ts';
import { root } from '#test/fixtures/root.ts';
import { site, siteContext } from '#test/fixtures/site.ts';

const shots = join(root, '.screenshots');
let t: TestStack;
let browser: Browser;

beforeAll(async () => {
  const choice = chooseBrowser();
  [t, browser] = await Promise.all([startTestStack(inject('cdkOut')), launchBrowser(choice)]);
  expect(site, 'forms.allowedOrigins needs a local origin (http://localhost:<port>)').toBeDefined();
});
afterAll(async () => {
  await browser?.close();
  await t?.stack.stop();
});

describe('the example form with its script', () => {
  it('UTM fields from the URL, the API’s field errors inline, then thanks', async () => {
    const email = 'utm.reader@acme-robotics.com';
    const embedding = await siteContext(browser, t.stack.urls.console, true);
    const page = await embedding.newPage();
    await page.goto(`${site}/contact-form.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring`);
    await expect(page.inputValue('input[name=utmSource]')).resolves.toBe('newsletter');
    await page.fill('#email', email);
    // A right-to-left override passes the browser's checks; the API refuses it (400 with field errors).
    await page.fill('#firstName', 'Ada\u202e');
    await page.click('button[type=submit]');
    const error = page.locator('#firstName-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/text-direction/);
    expect(await page.getAttribute('#firstName', 'aria-invalid')).toBe('true');
    await page.screenshot({ path: join(shots, 'form-errors.png'), fullPage: true });
    await page.fill('#firstName', 'Ada');
    await page.click('button[type=submit]');
    await page.locator('.thanks').waitFor();
    const lead = await eventually(() => storesOf(t).leads.get(leadIdFor(email)), 15_000, 'the lead');
    expect(lead).toMatchObject({ utmSource: 'newsletter', utmMedium: 'email', utmCampaign: 'spring' });
    await embedding.close();
  }, 45_000);

  it('rides out a 30 s outage: keeps the submission (across a reload), retries honouring Retry-After, then thanks', async () => {
    const email = 'patient.visitor@acme-robotics.com';
    const embedding = await siteContext(browser, t.stack.urls.console, true);
    // The outage: the first half of it the connection fails, the second half the API answers 503 with
    // Retry-After: 5, with the CORS headers the API's own 503 carries (without Expose-Headers the script
    // could not read Retry-After).
    let down: 'refused' | 'busy' | false = 'refused';
    const attempts: { at: number; answer: string }[] = [];
    await embedding.route(`${t.stack.urls.api}/leads`, async (route: Route) => {
      const at = await route
        .request()
        .frame()
        .evaluate(() => Date.now())
        .catch(() => -1);
      attempts.push({ at, answer: down || 'api' });
      if (down === 'refused') return route.abort('connectionrefused');
      if (down === 'busy')
        return route.fulfill({
          status: 503,
          headers: {
            'retry-after': '5',
            'access-control-allow-origin': String(site),
            'access-control-expose-headers': 'retry-after',
          },
          contentType: 'application/json',
          body: '{"message":"Service Unavailable"}',
        });
      return route.continue();
    });
    const page = await embedding.newPage();
    await page.clock.install();
    await page.goto(`${site}/contact-form.html`);
    await page.fill('#email', email);
    await page.fill('#firstName', 'Pat');
    await page.fill('#company', 'Acme Robotics');
    await page.check('#consent');
    await page.click('button[type=submit]');
    const status = page.locator('.form-status');
    await expect.poll(() => status.textContent()).toMatch(/cannot reach our servers: your request is kept/);
    expect(await page.isDisabled('button[type=submit]')).toBe(true);

    // 15 s without a connection, each second of page time in a step (a retry's fetch takes real time).
    const advance = async (seconds: number) => {
      for (let s = 0; s < seconds; s++) {
        await page.clock.runFor(1000);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await advance(15);
    const refused = attempts.filter((a) => a.answer === 'refused').length;
    expect(refused).toBeGreaterThanOrEqual(3); // backoff 1, 2, 4, 8 s (with jitter): 3 to 5 attempts
    expect(refused).toBeLessThanOrEqual(6);

    // The visitor reloads mid-outage: the kept submission fills the form again and is sent again.
    down = 'busy';
    await page.reload();
    await expect.poll(() => page.inputValue('#email')).toBe(email);
    expect(await page.isChecked('#consent')).toBe(true);
    await expect.poll(() => status.textContent()).toMatch(/busy right now: your request is kept/);
    await advance(15);
    const busy = attempts.filter((a) => a.answer === 'busy');
    expect(busy.length).toBeGreaterThanOrEqual(2);
    // Never sooner than Retry-After (5 s of page time) after a 503.
    for (let i = 1; i < busy.length; i++)
      expect((busy[i]?.at ?? 0) - (busy[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(5000);
    expect(await storesOf(t).leads.get(leadIdFor(email))).toBeUndefined();

    // Back up: the next retry is accepted, the visitor is thanked and the browser forgets the submission.
    down = false;
    for (let s = 0; s < 40 && !(await page.locator('.thanks').count()); s++) await advance(1);
    await page.locator('.thanks').waitFor();
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    const lead = await eventually(() => storesOf(t).leads.get(leadIdFor(email)), 15_000, 'the lead');
    expect(lead).toMatchObject({ company: 'Acme Robotics', consent: true });
    // One lead, one run: every retry carried the same submission.
    expect(attempts.filter((a) => a.answer === 'api').length).toBe(1);
    await embedding.close();
  }, 90_000);
});

describe('the site snippet (examples/track.js)', () => {
  const PERSON =
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
  /** A visitor id for `leadId`, signed with this stack's link key (as a tracked click hands it over). */
  const visitorFor = (leadId: string) => {
    const key = Object.values(
      JSON.parse(readFileSync(join(t.dataDir, 'secrets.json'), 'utf8')) as Record<string, string>,
    )[0];
    return visitorId(leadId, String(key), new Date(), 365);
  };

  it('sends and stores nothing before consent; after it, a pricing view lands on the lead’s timeline', async () => {
    const lead = aLead({ email: 'pricing.visitor@acme-robotics.com', formType: 'newsletter' });
    await storesOf(t).leads.capture(lead, 'run-visitor', new Date().toISOString());
    const embedding = await siteContext(browser, t.stack.urls.console, true, PERSON);
    const page = await embedding.newPage();
    const posted: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/events')) posted.push(r.method());
    });
    await page.goto(`${site}/pricing.html?hv=${visitorFor(lead.id)}&utm_source=mail`);
    // The id leaves the address bar at once; the other parameters stay.
    await expect.poll(() => new URL(page.url()).searchParams.has('hv')).toBe(false);
    expect(new URL(page.url()).searchParams.get('utm_source')).toBe('mail');
    await page.waitForTimeout(300);
    expect(posted).toEqual([]);
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    expect(await embedding.cookies()).toEqual([]);

    const answered = page.waitForResponse(
      (r) => r.url().endsWith('/events') && r.request().method() === 'POST',
    );
    await page.click('[data-handoff-consent=yes]');
    expect((await answered).status()).toBe(204);
    expect(await page.locator('[data-handoff-consent-banner]').count()).toBe(0);
    const visits = await eventually(
      async () => {
        const found = (await storesOf(t).leads.listEvents(lead.id)).filter((e) => e.type === 'page-visit');
        return found.length ? found : undefined;
      },
      10_000,
      'the page visit',
    );
    expect(visits[0]?.data).toEqual({ host: 'www.handoff.example', path: '/pricing' });
    expect(await embedding.cookies()).toEqual([]);
    await embedding.close();
  }, 45_000);

  it('a visitor who declines is forgotten: nothing sent, nothing kept', async () => {
    const embedding = await siteContext(browser, t.stack.urls.console, true, PERSON);
    const page = await embedding.newPage();
    const posted: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/events')) posted.push(r.method());
    });
    await page.goto(`${site}/pricing.html?hv=${visitorFor(leadIdFor('decliner@acme-robotics.com'))}`);
    await page.click('[data-handoff-consent=no]');
    await page.reload();
    await page.waitForTimeout(300);
    expect(posted).toEqual([]);
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
    await embedding.close();
  }, 45_000);
});

describe('the local mailbox', () => {
  it('replies as the lead from its page: the reply reaches a rep, whose email quotes it', async () => {
    const email = 'mailbox.replier@acme-robotics.com';
    expect((await postLead(t, { email, formType: 'newsletter' })).status).toBe(202);
    await eventually(
      async () => (await t.mailbox()).find((m) => m.destination.to.some((to) => to.includes(email))),
      30_000,
      'the first nurture email',
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    const said: string[] = [];
    page.on('dialog', async (d) => {
      said.push(d.type());
      await (d.type() === 'prompt' ? d.accept('Please call me on Friday.') : d.accept());
    });
    await page.goto(t.stack.urls.mailbox);
    const card = page.locator('.email', { hasText: email });
    await card.locator('button.handoff-reply').click();
    // The alert comes once the reply went through (InboundReply's first invocation starts its worker).
    await expect.poll(() => said, { timeout: 20_000 }).toEqual(['prompt', 'alert']);
    const assignment = await eventually(
      async () =>
        (await t.mailbox()).find(
          (m) => m.subject.startsWith('New lead') && (m.body.text ?? '').includes(email),
        ),
      20_000,
      'the assignment email',
    );
    expect(assignment.body.text).toContain('> Please call me on Friday.');
    await context.close();
  }, 60_000);
});
