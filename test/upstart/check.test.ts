// The upstart 0.6.5 job checker: clean on good job files (Lucid-style jobs
// and one with every 0.6.5 stanza form), the exact message for each bad one,
// clean on every job containerctl generates, and `containerctl check --upstart`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkJob, parseJob, UPSTART_065_STANZAS } from "../../generator/upstart-check";
import { allGeneratedJobs, ROOT } from "./golden";

const GOOD = path.join(__dirname, "../../../test/upstart/jobs/good");
const show = (text: string): string[] => checkJob(text).map((p) => `job.conf:${p.line}: ${p.message}`);

test("good job files are clean", () => {
  const files = fs.readdirSync(GOOD).filter((f) => f.endsWith(".conf"));
  assert.ok(files.length >= 4);
  for (const f of files) assert.equal(show(fs.readFileSync(path.join(GOOD, f), "utf8")), [], f);
});

test("the stanza table is upstart 0.6.5's, no more", () => {
  assert.equal([...UPSTART_065_STANZAS].sort(), [
    "author", "chdir", "chroot", "console", "description", "emits", "env", "exec", "expect", "export", "instance", "kill",
    "limit", "nice", "normal", "oom", "post-start", "post-stop", "pre-start", "pre-stop", "respawn", "script", "start",
    "stop", "task", "umask", "version",
  ]);
});

// One line a case: job text → the exact problems.
const BAD: [string, string[]][] = [
  // unknown stanzas
  ["foo bar", ["job.conf:1: unknown stanza 'foo'"]],
  ["exec /bin/x\nend script", ["job.conf:2: unknown stanza 'end'"]],
  ["start on a\nStart on b", ["job.conf:2: unknown stanza 'Start'"]],
  // later upstart only
  ["kill signal SIGPWR", ["job.conf:1: 'kill signal' is a later upstart's stanza: upstart 0.6.5 rejects it"]],
  ["console log", ["job.conf:1: 'console log' is a later upstart's stanza: upstart 0.6.5 rejects it"]],
  ["setuid nobody", ["job.conf:1: 'setuid' is a later upstart's stanza: upstart 0.6.5 rejects it"]],
  ["setgid nogroup", ["job.conf:1: 'setgid' is a later upstart's stanza: upstart 0.6.5 rejects it"]],
  ["manual", ["job.conf:1: 'manual' is a later upstart's stanza: upstart 0.6.5 rejects it"]],
  ["oom score 100", ["job.conf:1: 'oom score' is a later upstart's stanza: upstart 0.6.5 rejects it"]],
  ['usage "start x"', ["job.conf:1: 'usage' is a later upstart's stanza: upstart 0.6.5 rejects it"]],
  ["apparmor load /x", ["job.conf:1: 'apparmor' is a later upstart's stanza: upstart 0.6.5 rejects it"]],
  ["reload signal SIGUSR1", ["job.conf:1: 'reload' is a later upstart's stanza: upstart 0.6.5 rejects it"]],
  // arity
  ["task now", ["job.conf:1: 'task': unexpected argument 'now'"]],
  ["description one two", ["job.conf:1: 'description': unexpected argument 'two'"]],
  ["env", ["job.conf:1: 'env': expected VAR or VAR=VALUE"]],
  ["env A=1 B=2", ["job.conf:1: 'env': unexpected argument 'B=2'"]],
  ["exec", ["job.conf:1: 'exec': expected a command"]],
  ["export", ["job.conf:1: 'export': expected a variable name"]],
  ["instance", ["job.conf:1: 'instance': expected an instance name"]],
  ["kill timeout", ["job.conf:1: 'kill timeout': expected a number of seconds"]],
  ["kill timeout 5 10", ["job.conf:1: 'kill timeout': unexpected argument '10'"]],
  ["kill", ["job.conf:1: 'kill': expected 'timeout'"]],
  ["respawn limit 5", ["job.conf:1: 'respawn limit': expected an INTERVAL in seconds after COUNT"]],
  ["respawn limit unlimited 5", ["job.conf:1: 'respawn limit': unexpected argument '5'"]],
  ["respawn forever", ["job.conf:1: 'respawn': unknown argument 'forever'"]],
  ["limit nofile 1024", ["job.conf:1: 'limit nofile': expected a hard limit after the soft one"]],
  ["normal exit", ["job.conf:1: 'normal exit': expected an exit status or signal name"]],
  ["pre-start", ["job.conf:1: 'pre-start': expected 'exec' or 'script'"]],
  ["post-stop exec", ["job.conf:1: 'post-stop exec': expected a command"]],
  ["start on", ["job.conf:1: 'start on': expected an event"]],
  ["start", ["job.conf:1: 'start': expected 'on'"]],
  ["stop when x", ["job.conf:1: 'stop': unknown argument 'when'"]],
  // bad values
  ["kill timeout soon", ["job.conf:1: 'kill timeout': illegal interval 'soon', expected a number of seconds"]],
  ["respawn limit 5 x", ["job.conf:1: 'respawn limit': illegal interval 'x', expected a number of seconds"]],
  ["normal exit 0 FOO", ["job.conf:1: 'normal exit': illegal exit status 'FOO', expected an integer or a signal name"]],
  ["console logged", ["job.conf:1: 'console': unknown argument 'logged', expected one of 'none', 'output', 'owner'"]],
  ["expect forks", ["job.conf:1: 'expect': unknown argument 'forks', expected one of 'stop', 'daemon', 'fork', 'none'"]],
  ["umask 0999", ["job.conf:1: 'umask': illegal file creation mask '0999', expected an octal integer"]],
  ["nice 20", ["job.conf:1: 'nice': illegal nice value '20', expected -20 to 19"]],
  ["oom 16", ["job.conf:1: 'oom': illegal oom adjustment '16', expected -17 to 15 or 'never'"]],
  ["limit files 1 2", ["job.conf:1: 'limit': unknown resource 'files'"]],
  ["limit nofile 1 lots", ["job.conf:1: 'limit nofile': illegal limit 'lots', expected 'unlimited' or an integer"]],
  ["pre-start run /bin/x", ["job.conf:1: 'pre-start': expected 'exec' or 'script', got 'run'"]],
  // event expressions
  ["start on a and", ["job.conf:1: 'start on': expected an event"]],
  ["start on or b", ["job.conf:1: 'start on': expected an event before 'or'"]],
  ["start on (a or b", ["job.conf:1: 'start on': mismatched parentheses"]],
  ["start on a or b)", ["job.conf:1: 'start on': mismatched parentheses"]],
  ["start on a (b)", ["job.conf:1: 'start on': expected an operator before '('"]],
  ["start on a X=1 y", ["job.conf:1: 'start on': expected NAME=value after a NAME=value argument, got 'y'"]],
  // blocks and quotes
  ["script\n  echo hi\n", ["job.conf:1: 'script' block is not ended by 'end script'"]],
  ["exec /bin/x\npre-stop script\necho\nendscript\n", ["job.conf:2: 'pre-stop script' block is not ended by 'end script'"]],
  ["script now\nend script", ["job.conf:1: 'script': unexpected argument 'now'", "job.conf:2: unknown stanza 'end'"]],
  ['description "open', ["job.conf:1: unterminated quoted string"]],
  ['description ""', ["job.conf:1: 'description': expected a description, got an empty string"]],
  ['kill "timeout" 5', ["job.conf:1: 'kill': unknown argument '\"timeout\"'"]],
  ["env A=1\\\n B=2", ["job.conf:2: 'env': unexpected argument 'B=2'"]],
  // several problems: each reported, on its own line
  ["task\nsetuid x\n\n# fine\nnice 99\nexec /bin/x", [
    "job.conf:2: 'setuid' is a later upstart's stanza: upstart 0.6.5 rejects it",
    "job.conf:5: 'nice': illegal nice value '99', expected -20 to 19",
  ]],
];

for (const [text, want] of BAD) {
  test(`bad: ${JSON.stringify(text)}`, () => assert.equal(show(text), want));
}

test("a script block ends only at a line that is `end script`", () => {
  const job = "script\n  echo end script\n  x='\nend script # here\n'\nend script\n";
  const p = parseJob(job);
  assert.equal(p.problems, [{ line: 5, message: "unterminated quoted string" }]);
  const s = p.stanzas[0];
  assert.equal([s.name, s.block!.firstLine, s.block!.endLine], ["script", 2, 4]);
});

test("libnih's token rules: dequoted stanza names, escaped newlines inside a token, quoted operators", () => {
  const p = parseJob('"task"\nenv A=x\\\nB\nstart on "and" or b\ndescription "a\\"b"\n');
  assert.equal(p.problems, []);
  assert.equal(p.stanzas.map((s) => [s.line, s.name, s.args]), [
    [1, "task", []],
    [2, "env", ["A=x B"]],
    [4, "start", ["on", "and", "or", "b"]],
    [5, "description", ['a"b']],
  ]);
});

test("the parser returns stanzas with their lines and arguments", () => {
  const p = parseJob('description "a b"\nstart on (x or\n  y)\npre-start exec /bin/echo "hi there"\n');
  assert.equal(p.problems, []);
  assert.equal(p.stanzas.map((s) => [s.line, s.name, s.args]), [
    [1, "description", ["a b"]],
    [2, "start", ["on", "(", "x", "or", "y", ")"]],
    [4, "pre-start", ["exec", "/bin/echo", "hi there"]],
  ]);
});

test("every job containerctl generates is clean for 0.6.5", () => {
  const jobs = allGeneratedJobs();
  assert.ok(jobs.length >= 6);
  for (const j of jobs) assert.equal(show(j.text), [], j.label);
});

test("containerctl check --upstart prints file:line: message and fails; passes good files", () => {
  const cli = path.join(ROOT, "dist/cli/containerctl.js");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "upstart-check-"));
  try {
    const bad = path.join(dir, "bad.conf");
    fs.writeFileSync(bad, "description x\nkill signal SIGPWR\nscript\n");
    const r = spawnSync(process.execPath, [cli, "check", "--upstart", bad], { encoding: "utf8" });
    assert.is(r.stderr, `${bad}:2: 'kill signal' is a later upstart's stanza: upstart 0.6.5 rejects it\n${bad}:3: 'script' block is not ended by 'end script'\n`);
    assert.is(r.status, 1);
    const goods = fs.readdirSync(GOOD).map((f) => path.join(GOOD, f));
    const ok = spawnSync(process.execPath, [cli, "check", "--upstart", ...goods], { encoding: "utf8" });
    assert.is(ok.stderr, "");
    assert.is(ok.stdout, `${goods.length} job file(s) OK for upstart 0.6.5\n`);
    assert.is(ok.status, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
