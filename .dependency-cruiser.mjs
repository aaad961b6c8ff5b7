// The import map (docs/architecture.md, "Capabilities"): which folder may import which. `npm test` runs it
// (`npm run check:imports`); a new import against the map fails there with the rule's name and comment.
// Type-only imports count too (tsPreCompilationDeps): a type is a dependency of the reader's mind.

/** A capability folder under functions/. */
const fn = (name) => `^functions/${name}/`;
/** Everything under functions/ but the given folders. */
const fnExcept = (...names) => `^functions/(?!(?:${names.join('|')})/)`;

/** "from" may import nothing under functions/ but itself and `allowed`. */
const layer = (name, allowed, comment) => ({
  name: `${name}-imports-only-${allowed.join('-') || 'itself'}`,
  comment,
  severity: 'error',
  from: { path: fn(name) },
  to: { path: fnExcept(name, ...allowed) },
});

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'No file reaches itself through its imports: every cycle is two files doing one job, or one file doing two.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer('platform', [], 'platform/ holds no business words: http, steps, errors, the table, runs.'),
    layer(
      'config',
      ['platform'],
      'The configuration schema stands on platform/ alone: every capability reads it.',
    ),
    layer('lead', ['platform', 'config'], 'A lead, its stages, score, nurture schedule and signals.'),
    layer(
      'deal',
      ['platform', 'config', 'lead'],
      'A deal, assignment and team capacity; knows the lead it came from.',
    ),
    layer(
      'mail',
      ['platform', 'config', 'lead'],
      'Messages, MIME, links and the send and suppression stores.',
    ),
    layer(
      'funnel',
      ['platform', 'config', 'lead', 'deal'],
      'Milestones, counters and reports over leads and deals.',
    ),
    layer('deliverability', ['platform', 'config'], 'Bounce and complaint rates and the breaker.'),
    {
      name: 'capabilities-not-handlers',
      comment: 'Capabilities never import a handler folder (api/, steps/, events/): handlers stand on top.',
      severity: 'error',
      from: { path: '^functions/(platform|config|lead|deal|mail|funnel|deliverability)/' },
      to: { path: '^functions/(api|steps|events)/' },
    },
    {
      name: 'handlers-not-each-other',
      comment:
        'A handler folder imports capabilities, not another handler folder; steps/contracts.ts (the run’s shapes) is the one shared file.',
      severity: 'error',
      from: { path: '^functions/(api|steps|events)/' },
      to: {
        path: '^functions/(api|steps|events)/',
        pathNot: ['^functions/$1/', '^functions/steps/contracts\\.ts$'],
      },
    },
    {
      name: 'lambda-code-stays-in-functions',
      comment: 'Code a Lambda runs imports nothing outside functions/ (but the bundled config/*.json).',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(analytics|infra|workflows|local|console|scripts|test)/' },
    },
    {
      name: 'analytics-is-offline',
      comment:
        'analytics/ (backtest, cost, funnel history) runs in scripts and the console, never in the stack’s runtime.',
      severity: 'error',
      from: { path: '^analytics/' },
      to: { path: '^(infra|workflows|local|console|scripts|test)/' },
    },
    {
      name: 'console-not-local',
      comment:
        'The console runs inside the local stack and against AWS (npm run console): it depends on neither the local runtime nor the scripts.',
      severity: 'error',
      from: { path: '^console/' },
      to: { path: '^(local|scripts|infra|test)/' },
    },
    {
      name: 'serve-stands-alone',
      comment:
        'serve/ (the edge server, ports, the stack file) is shared by the local stack and the console: it imports neither.',
      severity: 'error',
      from: { path: '^serve/' },
      to: { path: '^(local|console|scripts|infra|workflows|analytics|test)/' },
    },
    {
      name: 'local-not-scripts',
      comment: 'The local stack does not import the scripts that drive it.',
      severity: 'error',
      from: { path: '^(local|infra|workflows)/' },
      to: { path: '^(scripts|test)/' },
    },
    {
      name: 'infra-not-local',
      comment: 'The CDK app (infra/, workflows/) knows nothing of the local stack or the console.',
      severity: 'error',
      from: { path: '^(infra|workflows)/' },
      to: { path: '^(local|console|analytics)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
