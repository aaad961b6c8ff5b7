// The HTTP API's budgets (config/app.json's `api`) reach the stage as one throttle per route, and the
// local stack reads the same settings: forms, emailed links and admin never share a bucket.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { routesOf } from '#local/http-api.ts';
import { type CfnTemplate, loadTemplate } from '#local/template.ts';
import { config } from '#test/fixtures/config.ts';

let raw: CfnTemplate;
beforeAll(() => {
  raw = loadTemplate(inject('cdkOut'));
});

const resourcesOf = (type: string) => Object.entries(raw.Resources).filter(([, r]) => r.Type === type);

describe('API budgets', () => {
  it('gives every route its own throttle from its budget, and the stage waits for the routes', () => {
    const [stage] = resourcesOf('AWS::ApiGatewayV2::Stage');
    if (!stage) throw new Error('no stage');
    const settings = stage[1].Properties?.RouteSettings as Record<string, Record<string, number>>;
    const routes = resourcesOf('AWS::ApiGatewayV2::Route');
    const keys = routes.map(([, r]) => String(r.Properties?.RouteKey)).sort();
    expect(Object.keys(settings).sort()).toEqual(keys);
    const budgetOf = (key: string) => {
      const path = key.split(' ')[1] ?? '';
      if (path === '/leads') return config.app.api.forms;
      if (path.startsWith('/admin/')) return config.app.api.admin;
      return config.app.api.links;
    };
    for (const key of keys)
      expect(settings[key], key).toEqual({
        ThrottlingRateLimit: budgetOf(key).ratePerSecond,
        ThrottlingBurstLimit: budgetOf(key).burst,
      });
    expect(keys).toEqual(expect.arrayContaining(['POST /leads', 'GET /unsubscribe', 'POST /unsubscribe']));
    // CloudFormation refuses RouteSettings naming a route it has not created yet.
    const dependsOn = (stage[1] as { DependsOn?: string[] }).DependsOn;
    for (const [id] of routes) expect(dependsOn, id).toContain(id);
  });

  it('the local stack throttles each route as the template says', () => {
    const local = routesOf(raw, { region: 'us-east-1', account: '000000000000' });
    const leads = local.find((r) => r.method === 'POST' && r.path === '/leads');
    const unsubscribe = local.find((r) => r.method === 'POST' && r.path === '/unsubscribe');
    expect(leads?.limit).toEqual({
      perSecond: config.app.api.forms.ratePerSecond,
      burst: config.app.api.forms.burst,
    });
    expect(unsubscribe?.limit).toEqual({
      perSecond: config.app.api.links.ratePerSecond,
      burst: config.app.api.links.burst,
    });
    expect(local.every((r) => r.limit)).toBe(true);
  });
});
