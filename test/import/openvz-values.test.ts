import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAmount, parseBarrierLimit, parseOnOffList, parseUint, showBytes, VzValueError } from "../../generator/import/openvz-values";

const isValueError = (e: unknown): boolean => e instanceof VzValueError;

test("a bare number is pages, bytes, 1 KiB blocks or a count, by parameter", () => {
  assert.is(parseAmount("256", "pages"), 256 * 4096);
  assert.is(parseAmount("256", "bytes"), 256);
  assert.is(parseAmount("256", "kblocks"), 256 * 1024);
  assert.is(parseAmount("256", "count"), 256);
});

test("suffixes T G M K P B, with decimals", () => {
  assert.is(parseAmount("512M", "pages"), 512 * 1024 ** 2);
  assert.is(parseAmount("2.5G", "kblocks"), 2.5 * 1024 ** 3);
  assert.is(parseAmount("2.2G", "bytes"), Math.floor(2.2 * 1024 ** 3));
  assert.is(parseAmount("1T", "bytes"), 1024 ** 4);
  assert.is(parseAmount("4k", "bytes"), 4096);
  assert.is(parseAmount("10P", "bytes"), 40960, "P is pages whatever the parameter");
  assert.is(parseAmount("100B", "pages"), 100, "B is bytes whatever the parameter");
  assert.throws(() => parseAmount("10K", "count"), isValueError);
  assert.throws(() => parseAmount("2.5", "pages"), isValueError);
});

test("unlimited and its old numeric spellings", () => {
  for (const s of ["unlimited", "9223372036854775807", "2147483647", "4611686018427387903"]) {
    assert.is(parseAmount(s, "pages"), "unlimited", s);
    assert.is(parseAmount(s, "count"), "unlimited", s);
  }
  assert.is(parseAmount("1801439850948198", "pages"), "unlimited", "beyond 8 PiB is no real limit");
  assert.is(parseAmount("2147483646", "count"), 2147483646);
});

test("barrier:limit, or one value for both", () => {
  assert.equal(parseBarrierLimit("65536:69632", "pages"), { barrier: 65536 * 4096, limit: 69632 * 4096 });
  assert.equal(parseBarrierLimit("240", "count"), { barrier: 240, limit: 240 });
  assert.equal(parseBarrierLimit("0:unlimited", "pages"), { barrier: 0, limit: "unlimited" });
  assert.equal(parseBarrierLimit("0:9223372036854775807", "pages"), { barrier: 0, limit: "unlimited" });
});

test("garbage is refused with the value in the message", () => {
  for (const s of ["", "lots", "-5", "1:2:3", "10X", "1e9", "0x10", " 1 2", "١٢"]) {
    assert.throws(() => parseBarrierLimit(s, "pages"), isValueError, s);
  }
  assert.throws(() => parseUint("-1"), isValueError);
  assert.throws(() => parseUint("99", 10), /larger than 10/);
  assert.throws(() => parseOnOffList("sys_time:yes"), isValueError);
  assert.equal(parseOnOffList("SYS_TIME:on  net_admin:off"), [{ name: "sys_time", on: true }, { name: "net_admin", on: false }]);
});

test("bytes shown with the largest exact suffix", () => {
  assert.is(showBytes(285212672), "272M");
  assert.is(showBytes(1536), "1536B");
  assert.is(showBytes(1024 ** 3), "1G");
  assert.is(showBytes(1000), "1000B");
  assert.is(showBytes("unlimited"), "unlimited");
});

test.run();
