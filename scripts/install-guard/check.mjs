// The preinstall script of a local devDependency of Handoff (file:scripts/install-guard): stops an
// install by npm < 11 with one line that says what to run instead.
//
// Why npm 10 cannot install Handoff: the node-<os>-<cpu> optionalDependencies all ship a bin named
// `node`. npm 10 installs the one for this machine and links node_modules/.bin/node, then cleans up the
// packages for other platforms together with their bin paths, which are the same node_modules/.bin/node
// (npm/cli#4362): the install exits 0 with no Node.js 24. It also drops the lockfile's `libc` fields,
// rewriting package-lock.json. npm 11 leaves other platforms' packages out before it links anything.
//
// Why here and not in the root package's own preinstall: npm runs the root's install scripts only after
// it has written package-lock.json; a dependency's script runs while it builds the tree, and its failure
// rolls the install back before the lock file is saved.
const agent = process.env.npm_config_user_agent ?? '';
const npm = /^npm\/(\d+)\.\S*/.exec(agent);
if (npm && Number(npm[1]) < 11) {
  const command = process.env.npm_command === 'ci' ? 'ci' : 'install';
  console.error(
    `Handoff needs npm >= 11, this is ${npm[0]}: run npx npm@11 ${command} (or npm install -g npm@11 once)`,
  );
  process.exit(1);
}
