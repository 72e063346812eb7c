// The `sluice` command line: commands, options, help and exit codes (commander). Each command is
// a thin call into src/commands/*; errors become one line on stderr and an exit code:
// 0 success, 1 what was checked or watched failed, 2 bad usage, an API error or no server.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { check, type CheckFormat } from './commands/check.js';
import { login, whoami } from './commands/auth.js';
import { cancelIssue, createIssue, getIssue, listIssues, watch, type CreateOptions } from './commands/issue.js';
import { approve, reject, task } from './commands/pipeline.js';
import { migrate } from './commands/migrate.js';
import { bashCompletion } from './commands/completion.js';
import { Ctx, envId, issueNumber, projectId, type GlobalOptions, type Io } from './context.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { terminalPrompts } from './prompt.js';

const VERSION = '0.1.0';

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;

const positiveInt = (name: string) => (raw: string): number => {
  if (!/^[1-9][0-9]*$/.test(raw)) throw new InvalidArgumentError(`${name} must be a positive integer.`);
  return Number(raw);
};

export function buildProgram(io: Io, done: (code: ExitCode) => void): Command {
  const program = new Command('sluice');
  const ctx = (cmd: Command) => new Ctx(io, cmd.optsWithGlobals<GlobalOptions>());
  /** Runs a command body; its result (if any) is the exit code. */
  const run = <A extends unknown[]>(body: (c: Ctx, ...args: A) => Promise<ExitCode | void>) =>
    async (...args: A) => {
      const cmd = args[args.length - 1] as Command;
      done((await body(ctx(cmd), ...args)) ?? EXIT.OK);
    };
  const projectOption = () => new Option('-p, --project <id>', 'the project (e.g. sample)').makeOptionMandatory().argParser(projectId);
  const stageOption = () => new Option('--stage <env>', 'the stage: its environment id (e.g. prod)').makeOptionMandatory().argParser((s) => envId(s));
  const issueArg = (c: Command) => c.argument('<issue>', 'the issue number (e.g. 12)', issueNumber);

  program
    .description('Sluice from a terminal or a CI job: check SQL, create, watch and approve issues, apply migration folders.\nTalks to the HTTP API only; works the same against `npm start` and a deployed stage.')
    .version(VERSION, '-V, --version')
    .option('--url <url>', 'the API (else SLUICE_URL, else the server of sluice login)')
    .option('--token <token>', 'a bearer token (else SLUICE_TOKEN, else the token of sluice login)')
    .option('--json', "print the API's JSON instead of text")
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Configuration: --url/--token, else SLUICE_URL/SLUICE_TOKEN, else $XDG_CONFIG_HOME/sluice/config.json
(default ~/.config/sluice/config.json, mode 0600), written by sluice login.
Exit codes: 0 success; 1 what was checked or watched failed (an ERROR advice, a FAILED or
CANCELED issue, drift); 2 bad usage, an API error (its message on stderr) or no server.
${examples(
  'sluice login --url http://127.0.0.1:3000 --token eyJ…      # the line npm start prints',
  'sluice issue create -p sample --file add_phone.sql --group hr --watch',
  'sluice approve -p sample 1 --stage prod',
  'sluice check migrations/hr_test/*.sql --engine postgres --format github',
  'sluice migrate -p sample --dir migrations',
)}`,
    );

  program
    .command('login')
    .description('Sign in and save the server and token (mode 0600) for the next commands: give --url, and --token or --email')
    .option('--email <email>', 'deployed: sign in to the Cognito user pool as this user (the password is asked, never echoed)')
    .option('--client-id <id>', 'deployed: the user pool app client (stack output UserPoolClientId; or SLUICE_COGNITO_CLIENT_ID)')
    .option('--region <region>', 'deployed: the user pool region (default: from the API URL; or SLUICE_COGNITO_REGION)')
    .addHelpText(
      'after',
      examples(
        'sluice login --url http://127.0.0.1:3000 --token eyJ…',
        'npm run --silent token -- dba@example.com | sluice login --url http://127.0.0.1:3000 --token -',
        'sluice login --url https://abc.execute-api.eu-west-1.amazonaws.com --email you@example.com --client-id 4example',
      ) + '\n--url is the API (e.g. http://127.0.0.1:3000); --token a token (npm start prints one; "-" reads it\nfrom stdin). The token is checked against the API before it is saved; its expiry is shown.\n',
    )
    .action(run(async (c, o: { email?: string; clientId?: string; region?: string }) => login(c, { ...o, ...c.globals }, terminalPrompts(io.stdin, io.err))));

  program
    .command('whoami')
    .description('Show whom the token signs in as, at which server, and when it expires')
    .addHelpText('after', examples('sluice whoami', 'SLUICE_TOKEN=$(npm run --silent token -- rel@example.com) sluice whoami --json'))
    .action(run(async (c) => whoami(c)));

  program
    .command('check')
    .description('Review SQL files without running them (POST /v1/sql:check per file); exit 1 on any ERROR advice')
    .argument('<file...>', 'SQL files; lines and columns in the advice are the file\'s')
    .option('--database <name>', 'review against this database: its engine, environment, project and schema (instances/<i>/databases/<d>)')
    .option('--engine <engine>', 'or review for an engine: postgres or mysql')
    .option('--environment <env>', "with --engine: apply that environment's review configs")
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json', 'github']).default('text'))
    .addHelpText(
      'after',
      examples(
        'sluice check add_phone.sql --database instances/pg-sample-prod/databases/hr_prod',
        'sluice check migrations/**/*.sql --engine postgres --environment prod --format github   # annotations on the pull request',
      ),
    )
    .action(run(async (c, files: string[], o: { database?: string; engine?: string; environment?: string; format?: CheckFormat }) => check(c, files, o)));

  const issue = program
    .command('issue')
    .description('Create, list, show, cancel and watch issues')
    .addHelpText('after', examples('sluice issue create -p sample --file add_phone.sql --group hr --watch', 'sluice issue list -p sample --status open', 'sluice issue watch -p sample 1'));
  issue
    .command('create')
    .description('Create an issue: its pipeline is planned and starts at once')
    .addOption(projectOption())
    .option('--file <file>', 'the statement, from a SQL file')
    .option('--sheet <sheet>', 'or a saved sheet of the project (its id)')
    .option('--target <database...>', 'target databases (instances/<i>/databases/<d>, or <i>/<d>)')
    .option('--group <group>', 'or a database group of the project (its id)')
    .addOption(new Option('--type <type>', 'schema (DDL), data (DML) or create (a new database: one --target)').choices(['schema', 'data', 'create']).default('schema'))
    .option('--title <title>', 'default: from the file name')
    .option('--description <text>')
    .option('--run-time <time>', 'hold every task until then (RFC 3339, e.g. 2026-12-01T02:00:00Z)')
    .option('--watch', 'then watch it (see issue watch); the exit code is its outcome')
    .option('-q, --quiet', 'print the issue number only (for scripts)')
    .option('--live', 'with --watch: redraw in place even when stdout is not a terminal')
    .option('--plain', 'with --watch: one line per change even on a terminal')
    .addHelpText(
      'after',
      examples(
        'sluice issue create -p sample --file add_phone.sql --group hr --watch',
        'sluice issue create -p sample --file fix.sql --type data --target pg-sample-test/hr_test --title "Fix salaries"',
        'sluice issue create -p sample --type create --target instances/pg-sample-test/databases/hr_new',
        'N=$(sluice issue create -p sample --file add_phone.sql --group hr -q)',
      ),
    )
    .action(run(async (c, o: CreateOptions & { project: string }) => createIssue(c, o.project, o)));
  issue
    .command('list')
    .description("List a project's issues")
    .addOption(projectOption())
    .addOption(new Option('--status <status>', 'only these').choices(['OPEN', 'DONE', 'CANCELED', 'open', 'done', 'canceled']))
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 200)
    .addHelpText('after', examples('sluice issue list -p sample', 'sluice issue list -p sample --status open --json'))
    .action(run(async (c, o: { project: string; status?: string; limit?: number }) => listIssues(c, o.project, o)));
  issueArg(issue.command('get').description('Show an issue: its stages, tasks, failures and statement'))
    .addOption(projectOption())
    .addHelpText('after', examples('sluice issue get -p sample 1', 'sluice issue get -p sample 1 --json'))
    .action(run(async (c, n: number, o: { project: string }) => getIssue(c, o.project, n)));
  issueArg(issue.command('cancel').description('Cancel an issue: its execution stops, unfinished tasks are canceled'))
    .addOption(projectOption())
    .addHelpText('after', examples('sluice issue cancel -p sample 3'))
    .action(run(async (c, n: number, o: { project: string }) => cancelIssue(c, o.project, n)));
  issueArg(issue.command('watch').description('Follow an issue until it ends: exit 0 when DONE, 1 when CANCELED, rejected, or waiting at a failed task'))
    .addOption(projectOption())
    .option('--live', 'redraw in place even when stdout is not a terminal (also SLUICE_FORCE_TTY=1)')
    .option('--plain', 'one line per change even on a terminal')
    .addHelpText(
      'after',
      `
On a terminal, a view redrawn in place: each stage with its status, a bar of its tasks (█ done,
▓ running, X failed, ▒ skipped, ░ pending), the approval it waits for and by which roles,
failed tasks with their detail, and the time since the issue was created. Colours unless NO_COLOR
is set; lines fit the terminal's width. Elsewhere (a CI log): one plain line per change. --json:
one line of the API's issue JSON per change. Polls GET issue every 0.5 s, slowing to 5 s while
nothing changes.
${examples('sluice issue watch -p sample 1', 'sluice issue watch -p sample 1 --plain | tee watch.log')}`,
    )
    .action(run(async (c, n: number, o: { project: string; live?: boolean; plain?: boolean }) => watch(c, o.project, n, o)));

  issueArg(program.command('approve').description('Approve a stage waiting for approval (not as the issue\'s creator)'))
    .addOption(projectOption())
    .addOption(stageOption())
    .option('--comment <text>')
    .option('--wait', 'first wait until the stage waits for its approval (earlier stages still running)')
    .option('--timeout <seconds>', 'with --wait: give up after this long', positiveInt('--timeout'), 600)
    .addHelpText('after', examples('sluice approve -p sample 1 --stage prod', 'SLUICE_TOKEN=$REL sluice approve -p sample "$N" --stage prod --wait'))
    .action(run(async (c, n: number, o: { project: string; stage: string; comment?: string; wait?: boolean; timeout?: number }) => approve(c, { project: o.project, issue: n, stage: o.stage }, o)));
  issueArg(program.command('reject').description('Reject a stage waiting for approval: the stage is REJECTED, the issue stays OPEN'))
    .addOption(projectOption())
    .addOption(stageOption())
    .requiredOption('--reason <text>', 'why (kept in the issue\'s activities)')
    .addHelpText('after', examples('sluice reject -p sample 2 --stage prod --reason "not during the sale"'))
    .action(run(async (c, n: number, o: { project: string; stage: string; reason: string }) => reject(c, { project: o.project, issue: n, stage: o.stage }, o)));

  const taskCmd = program
    .command('task')
    .description('Retry or skip a failed task (the pipeline waits at it)')
    .addHelpText('after', examples('sluice task run -p sample 4 --stage test --task 1', 'sluice task skip -p sample 4 --stage prod --task 2 --reason "tenant retired"'));
  for (const action of ['run', 'skip'] as const) {
    issueArg(taskCmd.command(action).description(action === 'run' ? 'Run a failed task again (a new task run)' : 'Skip a failed task; the pipeline goes on'))
      .addOption(projectOption())
      .addOption(stageOption())
      .requiredOption('--task <id>', 'the task id (e.g. 3; sluice issue get lists them)')
      .option('--reason <text>', action === 'skip' ? 'why (required)' : 'a comment')
      .addHelpText('after', examples(action === 'run' ? 'sluice task run -p sample 4 --stage test --task 1' : 'sluice task skip -p sample 4 --stage test --task 2 --reason "tenant retired"'))
      .action(run(async (c, n: number, o: { project: string; stage: string; task: string; reason?: string }) => task(c, action, { project: o.project, issue: n, stage: o.stage, task: o.task }, o)));
  }

  program
    .command('migrate')
    .description('Turn a migration folder into issues (the GitOps layout, no webhook): new versions in order, applied ones skipped, drift fails the run')
    .addOption(projectOption())
    .requiredOption('--dir <dir>', 'the folder: {dir}/{database}/V{version}__{description}.sql and {dir}/@{group}/V…sql')
    .option('--dry-run', 'show what would be created; create nothing')
    .option('--watch', 'watch each new issue to its end before creating the next (a failed one stops the run)')
    .option('--live', 'with --watch: redraw in place even when stdout is not a terminal')
    .option('--plain', 'with --watch: one line per change even on a terminal')
    .addHelpText(
      'after',
      `
A first line "-- sluice:type=data" makes a data update. Versions (V1, V1.2, V2026_1) compare as
numbers. Every file is checked before anything is created: a version some target database applied
with other content (drift), or a file that breaks the naming or names no database or group of the
project, fails the run (exit 1) and nothing is created.
${examples('sluice migrate -p sample --dir migrations --dry-run', 'sluice migrate -p sample --dir migrations', 'sluice migrate -p sample --dir migrations --watch --json > migrate.json')}`,
    )
    .action(run(async (c, o: { project: string; dir: string; dryRun?: boolean; watch?: boolean; live?: boolean; plain?: boolean }) => migrate(c, o.project, o)));

  program
    .command('completion')
    .description('Print a shell completion script')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash']))
    .addHelpText('after', examples('eval "$(sluice completion bash)"        # in ~/.bashrc', 'autoload bashcompinit && bashcompinit && eval "$(sluice completion bash)"   # zsh'))
    .action(() => {
      io.out.write(bashCompletion(program));
      done(EXIT.OK);
    });
  return program;
}

/** Runs the command line; resolves to the exit code (never throws, never calls process.exit). */
export async function main(argv: string[], io: Io = { out: process.stdout, err: process.stderr, env: process.env, stdin: process.stdin }): Promise<ExitCode> {
  let code: ExitCode = EXIT.OK;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are successes; anything else commander already explained on stderr.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.OK : EXIT.ERROR;
    }
    if (e instanceof CliError) {
      io.err.write(`sluice: ${e.message}\n`);
      return e.exitCode;
    }
    io.err.write(`sluice: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.ERROR;
  }
}
