import { test } from "uvu";
import * as assert from "uvu/assert";
import { EscapeError, envAssignment, execLine, execWord, shellQuote, unitValue } from "../../generator/escape";

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

test.run();
