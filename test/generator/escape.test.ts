import { test } from "uvu";
import * as assert from "uvu/assert";
import { EscapeError, envAssignment, execLine, execWord, shellQuote, unitValue, unitWord, visible } from "../../generator/escape";

const isEscapeError = (e: unknown): boolean => e instanceof EscapeError;

test("unit values double % and refuse what would break the line", () => {
  assert.is(unitValue("100% %n"), "100%% %%n");
  assert.throws(() => unitValue("a\nExecStartPre=/bin/evil"), isEscapeError);
  assert.throws(() => unitValue("trailing\\"), isEscapeError);
  assert.throws(() => unitValue("nul\u0000"), isEscapeError);
});

test("exec words are quoted and escape specifiers and variables", () => {
  assert.is(execWord("/usr/bin/x"), "/usr/bin/x");
  assert.is(execWord("a b"), '"a b"');
  assert.is(execWord('say "hi" \\'), '"say \\"hi\\" \\\\"');
  assert.is(execWord("$HOME%i"), "$$HOME%%i");
  assert.is(execWord(";"), "\\;");
  assert.is(execWord(""), '""');
  assert.is(execLine(["/bin/echo", "a;b", "${X}"]), '/bin/echo "a;b" "$${X}"');
});

test("environment assignments are always quoted", () => {
  assert.is(envAssignment("A", 'x "y" 5%'), '"A=x \\"y\\" 5%%"');
  assert.throws(() => envAssignment("1A", "x"), isEscapeError);
});

test("shell quoting survives every quote", () => {
  assert.is(shellQuote("plain/path"), "plain/path");
  assert.is(shellQuote("it's $(x)"), `'it'\\''s $(x)'`);
  assert.is(shellQuote(""), "''");
});

test("unit words (RequiresMountsFor=, DeviceAllow=) are quoted when they would split or unquote", () => {
  assert.is(unitWord("/dev/sda"), "/dev/sda");
  assert.is(unitWord("/srv/my root"), '"/srv/my root"');
  assert.is(unitWord(`/a"b'c\\d%n`), `"/a\\"b'c\\\\d%%n"`);
  assert.is(unitWord("/x%"), "/x%%");
  assert.is(unitWord(""), '""');
  assert.throws(() => unitWord("a\nb"), isEscapeError);
});

test("visible text shows control characters instead of writing them", () => {
  assert.is(visible("a\nExecStart=x\u001b\u0085"), "a\\x0aExecStart=x\\x1b\\x85");
  assert.is(visible("plain é"), "plain é");
});

test.run();
